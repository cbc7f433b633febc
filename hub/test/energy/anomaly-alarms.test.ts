import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { gatewayTopic } from '@warden/contract';
import { HOUR, MIN15, localTime } from '../../src/energy/time.ts';
import { ackWatcher, api, clockAt, connectGateway, FakeGatewayBatches, inventory, login, registered, testHub, type TestHub } from '../helpers.ts';

/**
 * Energy alarms on a running hub: a meter's registers arrive over MQTT, the rollup runs, the energy watch judges the
 * completed hours and the alarm engine raises `energy.*`; facilities mark it "not an anomaly" over REST. The hub
 * clock stands 10 minutes after the last judged hour, so the test passes on any date.
 */
const DAY = 24 * HOUR;
const day0 = localTime('2026-10-05', 0, 8); // a Monday, campus midnight
const DAYS = 28;
const spikeFrom = day0 + (DAYS - 1) * DAY + 14 * HOUR; // last day (a Sunday) 14:00–17:00 local
const spikeTo = spikeFrom + 3 * HOUR;
const end = spikeTo + HOUR; // readings up to 18:00; the watch judges up to 17:00
let t: TestHub;
let gw: MqttClient;
let admin: string;
let fac: string;
let sec: string;
let facx: string;

/** kWh per quarter hour: an office, 10 kWh in working hours, 3 at night and on weekends, a small ripple. */
function quarter(ts: number): number {
  const local = ts + 8 * HOUR;
  const h = Math.floor((local % DAY) / HOUR);
  const wd = new Date(local).getUTCDay();
  const base = wd >= 1 && wd <= 5 && h >= 8 && h < 18 ? 10 : 3;
  const extra = ts >= spikeFrom && ts < spikeTo ? 12 : 0;
  return base * (1 + 0.03 * Math.sin(ts / 5_555_555)) + extra;
}

beforeAll(async () => {
  t = await testHub(
    {
      users: [
        { username: 'fac', roles: ['facilities'], password: 'facilities-password' },
        // Trust (issue 9): facilities of another building see none of the library's energy alarms or anomalies.
        { username: 'facx', roles: ['facilities'], password: 'facilities-password', scope: { buildings: ['teach'] } },
        { username: 'facl', roles: ['facilities'], password: 'facilities-password', scope: { buildings: ['lib'] } },
        { username: 'sec', roles: ['security'], password: 'security-password' },
      ],
      ...registered({ 'gw-en': { password: 'energy-gateway-password', devices: [{ id: 'pm-lib', kind: 'meter', building: 'lib' }] } }),
      energy: {
        nodes: [
          { id: 'campus', type: 'campus', name: 'Campus' },
          { id: 'lib', type: 'building', parent: 'campus', use: 'library', name: 'Library' },
        ],
        meters: [{ id: 'pm-lib', node: 'lib', medium: 'power' }],
      },
    },
    undefined,
    clockAt(end + 10 * 60_000),
  );
  await t.hub.provisionGateway('gw-en', 'Energy', 'energy-gateway-password');
  gw = await connectGateway(t.hub.mqttUrl, 'gw-en', 'energy-gateway-password');
  const acks = await ackWatcher(gw, 'gw-en');
  await gw.publishAsync(gatewayTopic('gw-en', 'inventory'), inventory('gw-en', [{ id: 'pm-lib', kind: 'meter', building: 'lib' }]), { qos: 1, retain: true });
  const g = new FakeGatewayBatches('gw-en');
  let register = 5000;
  const records = [];
  for (let ts = day0; ts <= end; ts += MIN15) {
    records.push(g.telemetry('pm-lib', { energy_kwh: Math.round(register * 1000) / 1000 }, ts));
    register += quarter(ts);
  }
  for (let i = 0; i < records.length; i += 500) {
    await gw.publishAsync(gatewayTopic('gw-en', 'up'), g.batch(records.slice(i, i + 500)), { qos: 1 });
  }
  await acks.until(g.seq);
  admin = await login(t.hub);
  fac = await login(t.hub, 'fac', 'facilities-password');
  sec = await login(t.hub, 'sec', 'security-password');
  facx = await login(t.hub, 'facx', 'facilities-password');
}, 120_000);

afterAll(async () => {
  await gw?.endAsync();
  await t?.close();
});

interface Alarm {
  id: string;
  type: string;
  device: string;
  state: string;
  building: string | null;
}

describe('energy alarms', () => {
  let alarm: Alarm;

  it('the rollup judges the completed hours and raises an energy alarm with its numbers and sentence', async () => {
    // refresh=true runs the module's rollup, which ends with the energy watch.
    expect((await api(t.hub, fac, `/api/energy/consumption?node=pm-lib&from=${day0}&to=${end}&step=1d&refresh=true`)).status).toBe(200);
    const r = await api<{ alarms: Alarm[] }>(t.hub, admin, '/api/alarms?type=energy.*');
    expect(r.status).toBe(200);
    expect(r.body.alarms).toHaveLength(1);
    alarm = r.body.alarms[0]!;
    expect(alarm).toMatchObject({ type: 'energy.spike', device: 'pm-lib', state: 'raised', building: 'lib' });
    const one = await api<{ timeline: Array<{ kind: string; detail?: { from: number; to: number; numbers: Record<string, number>; en: string; zh: string } }> }>(t.hub, admin, `/api/alarms/${alarm.id}`);
    const detail = one.body.timeline[0]!.detail!;
    expect(detail.from).toBe(spikeFrom);
    expect(detail.to).toBe(spikeTo);
    expect(detail.numbers.ratio).toBeGreaterThan(3);
    expect(detail.en).toMatch(/kWh/);
    expect(detail.zh).toMatch(/千瓦时|kWh/);
  });

  it('scope: facilities of another building get neither the alarm nor the anomaly, and may not acknowledge it', async () => {
    const alarms = async (tok: string) => (await api<{ alarms: Alarm[] }>(t.hub, tok, '/api/energy/alarms')).body.alarms.map((a) => a.id);
    expect(await alarms(fac)).toEqual([alarm.id]);
    expect(await alarms(facx)).toEqual([]);
    expect((await api(t.hub, facx, `/api/energy/alarms/${alarm.id}/acknowledge`, { method: 'POST', body: {} })).status).toBe(403);
    const q = `from=${spikeFrom - DAY}&to=${end}`;
    const anomalies = async (tok: string) => (await api<{ anomalies: Array<{ meter: string }> }>(t.hub, tok, `/api/energy/anomalies?${q}`)).body.anomalies.map((a) => a.meter);
    expect(await anomalies(fac)).toContain('pm-lib');
    expect(await anomalies(facx)).toEqual([]);
    const facl = await login(t.hub, 'facl', 'facilities-password');
    expect(await anomalies(facl)).toEqual(await anomalies(fac));
    expect(await alarms(facl)).toEqual([alarm.id]);
    expect((await api(t.hub, facx, `/api/energy/anomalies?${q}&meter=pm-lib`)).status).toBe(403);
    expect((await api<{ tree: unknown }>(t.hub, facx, '/api/energy/tree')).body.tree).toBeNull();
  });

  it('the chart: the meter’s hours with the expected value and band, the alert on them', async () => {
    const r = await api<{ unit: string; hours: Array<{ ts: number; value: number | null; expected: number | null; low: number | null; high: number | null; flag: string | null }>; alerts: Array<{ kind: string; from: number; to: number; text: { key: string; en: string; zh: string } }> }>(
      t.hub,
      fac,
      `/api/energy/detection?meter=pm-lib&from=${spikeFrom - 24 * HOUR}&to=${spikeTo}`,
    );
    expect(r.status).toBe(200);
    expect(r.body.unit).toBe('kWh');
    expect(r.body.hours).toHaveLength(27);
    const peak = r.body.hours.find((h) => h.ts === spikeFrom)!;
    expect(peak.flag).toBe('spike');
    expect(peak.value!).toBeGreaterThan(peak.high!);
    expect(peak.low!).toBeLessThan(peak.expected!);
    expect(r.body.alerts).toEqual([expect.objectContaining({ kind: 'spike', from: spikeFrom, to: spikeTo, text: expect.objectContaining({ key: 'energy.anomaly.spike' }) })]);
    expect((await api(t.hub, fac, `/api/energy/detection?meter=nope`)).status).toBe(404);
    expect((await api(t.hub, sec, `/api/energy/detection?meter=pm-lib`)).status).toBe(403);
  });

  it('facilities mark it not an anomaly: kept, audited, the alarm resolved', async () => {
    const bad = await api(t.hub, fac, '/api/energy/anomalies/feedback', { method: 'POST', body: { meter: 'pm-lib', from: spikeTo, to: spikeFrom } });
    expect(bad.status).toBe(400);
    expect((await api(t.hub, fac, '/api/energy/anomalies/feedback', { method: 'POST', body: { meter: 'nope', from: spikeFrom, to: spikeTo } })).status).toBe(404);
    expect((await api(t.hub, sec, '/api/energy/anomalies/feedback', { method: 'POST', body: { meter: 'pm-lib', from: spikeFrom, to: spikeTo } })).status).toBe(403);
    const r = await api<{ id: string; by: string; kind: string | null }>(t.hub, fac, '/api/energy/anomalies/feedback', {
      method: 'POST',
      body: { meter: 'pm-lib', kind: 'spike', from: spikeFrom, to: spikeTo, note: 'open day in the library', alarm: alarm.id },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ by: 'fac', kind: 'spike' });
    const a = await api<Alarm & { resolveNote: string }>(t.hub, admin, `/api/alarms/${alarm.id}`);
    expect(a.body).toMatchObject({ state: 'resolved', resolveNote: 'not an anomaly: open day in the library' });
    const list = await api<{ feedback: Array<{ id: string; note: string }> }>(t.hub, fac, '/api/energy/anomalies/feedback?meter=pm-lib');
    expect(list.body.feedback).toEqual([expect.objectContaining({ id: r.body.id, note: 'open day in the library' })]);
    const audit = await api<{ entries: Array<{ action: string; actor: string }> }>(t.hub, admin, '/api/audit?action=energy.');
    expect(audit.body.entries.some((e) => e.action === 'energy.anomaly_dismissed' && e.actor === 'fac')).toBe(true);
  });
});
