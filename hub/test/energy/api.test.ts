import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { gatewayTopic } from '@warden/contract';
import { HOUR, MIN15, localTime } from '../../src/energy/time.ts';
import { ackWatcher, api, clockAt, connectGateway, FakeGatewayBatches, inventory, login, registered, testHub, type TestHub } from '../helpers.ts';

/**
 * The energy REST routes on a running hub: meter registers arrive over MQTT like any telemetry. The hub's clock reads
 * three days after the readings (the rollup looks back 35 days from now), so the test passes on any date.
 */
const day0 = localTime('2026-11-02', 0, 8);
let t: TestHub;
let gw: MqttClient;
let admin: string;
let sec: string;

beforeAll(async () => {
  t = await testHub({
    users: [{ username: 'sec', roles: ['security'], password: 'security-password' }],
    ...registered({ 'gw-en': { password: 'energy-gateway-password', devices: [{ id: 'pm-a', kind: 'meter', building: 'teach-a' }] } }),
    energy: {
      nodes: [
        { id: 'campus', type: 'campus', name: 'Campus' },
        { id: 'teach-a', type: 'building', parent: 'campus', use: 'teaching', name: 'Teaching A' },
      ],
      meters: [{ id: 'pm-a', node: 'teach-a', medium: 'power', tariff: 'grid' }],
      tariffs: {
        grid: {
          kind: 'tou',
          medium: 'power',
          periods: [{ from: '2026-01-01', to: '2026-12-31', slots: [{ from: '00:00', to: '08:00', band: 'valley' }, { from: '08:00', to: '24:00', band: 'peak' }], prices: { peak: 1, flat: 0.6, valley: 0.5 } }],
        },
      },
    },
  }, undefined, clockAt(day0 + 3 * 24 * HOUR));
  await t.hub.provisionGateway('gw-en', 'Energy', 'energy-gateway-password');
  gw = await connectGateway(t.hub.mqttUrl, 'gw-en', 'energy-gateway-password');
  const acks = await ackWatcher(gw, 'gw-en');
  await gw.publishAsync(gatewayTopic('gw-en', 'inventory'), inventory('gw-en', [{ id: 'pm-a', kind: 'meter', building: 'teach-a' }]), { qos: 1, retain: true });
  const g = new FakeGatewayBatches('gw-en');
  // Two days, a reading every 15 minutes, 5 kWh per quarter hour (20 kW, also all night).
  const records = Array.from({ length: 2 * 96 + 1 }, (_, i) => g.telemetry('pm-a', { energy_kwh: 1000 + 5 * i, power_kw: 20 }, day0 + i * MIN15));
  await gw.publishAsync(gatewayTopic('gw-en', 'up'), g.batch(records), { qos: 1 });
  await acks.until(g.seq);
  admin = await login(t.hub);
  sec = await login(t.hub, 'sec', 'security-password');
});

afterAll(async () => {
  await gw?.endAsync();
  await t?.close();
});

describe('energy REST', () => {
  it('tree', async () => {
    const r = await api<{ tree: { id: string; children: Array<{ id: string; meters: Array<{ id: string }> }> } }>(t.hub, admin, '/api/energy/tree');
    expect(r.status).toBe(200);
    expect(r.body.tree.id).toBe('campus');
    expect(r.body.tree.children[0]!.meters[0]!.id).toBe('pm-a');
  });

  it('consumption per hour and per day, rolled up from the registers', async () => {
    const q = `node=campus&from=${day0}&to=${day0 + 24 * HOUR}`;
    const hourly = await api<{ total: number; unit: string; points: Array<[number, number, string[]]> }>(t.hub, admin, `/api/energy/consumption?${q}&step=1h&refresh=true`);
    expect(hourly.status).toBe(200);
    expect(hourly.body.unit).toBe('kWh');
    expect(hourly.body.points).toHaveLength(24);
    expect(hourly.body.points[0]).toEqual([day0, 20, []]);
    const daily = await api<{ total: number; points: unknown[] }>(t.hub, admin, `/api/energy/consumption?${q}&step=1d`);
    expect(daily.body.points).toEqual([[day0, 480, []]]);
  });

  it('cost by TOU band', async () => {
    const r = await api<{ total: number; media: Array<{ byBand: Record<string, { amount: number; cost: number }> }> }>(t.hub, admin, `/api/energy/cost?node=teach-a&from=${day0}&to=${day0 + 24 * HOUR}`);
    expect(r.status).toBe(200);
    expect(r.body.media[0]!.byBand.valley).toEqual({ amount: 160, cost: 80 });
    expect(r.body.media[0]!.byBand.peak).toEqual({ amount: 320, cost: 320 });
    expect(r.body.total).toBe(400);
  });

  it('anomalies are the detector’s alerts with their numbers and sentence: the meter silent since its last reading', async () => {
    const r = await api<{ anomalies: Array<{ kind: string; meter: string; unit: string; from: number; numbers: Record<string, number>; text: { en: string; zh: string } }> }>(
      t.hub,
      admin,
      `/api/energy/anomalies?from=${day0}&to=${day0 + 72 * HOUR}`,
    );
    expect(r.status).toBe(200);
    const missing = r.body.anomalies.filter((a) => a.kind === 'missing');
    expect(missing).toEqual([expect.objectContaining({ meter: 'pm-a', unit: 'kWh', from: day0 + 48 * HOUR })]);
    expect(missing[0]!.text.en.length).toBeGreaterThan(10);
    expect(missing[0]!.text.zh.length).toBeGreaterThan(5);
    expect((await api(t.hub, admin, `/api/energy/anomalies?from=${day0 - 40 * 24 * HOUR}&to=${day0}`)).status).toBe(400);
  });

  it('unknown node 404, bad step 400, wrong role 403', async () => {
    expect((await api(t.hub, admin, `/api/energy/consumption?node=nope&from=${day0}&to=${day0 + HOUR}`)).status).toBe(404);
    expect((await api(t.hub, admin, `/api/energy/consumption?node=campus&step=5m`)).status).toBe(400);
    expect((await api(t.hub, sec, '/api/energy/tree')).status).toBe(403);
  });
});
