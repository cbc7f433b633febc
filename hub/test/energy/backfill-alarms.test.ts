import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Anomalies, EnergyImportResult } from '@warden/contract';
import { DAY, HOUR, localTime } from '../../src/energy/time.ts';
import { api, clockAt, login, testHub, type TestHub } from '../helpers.ts';

/**
 * Backfilled hours are judged by the anomaly detector when they are imported: an alert that ended within
 * `energy.anomalies.backfillAlarmDays` (here 7) of now raises an energy alarm; an older one is in the anomaly list
 * (GET /api/energy/anomalies, the detector's alerts) but raises none; a re-import raises nothing again. The hub
 * clock reads a fixed date, so the test passes on any date.
 */
const OFF = 8;
const now = localTime('2026-06-01', 9 * 60 + 20, OFF); // a Monday, 09:20 campus time
let t: TestHub;
let fac: string;
let admin: string;

/** kWh an hour of an office: 40 in working hours on weekdays, 8 otherwise, with a little ripple. */
function office(ts: number): number {
  const local = new Date(ts + OFF * HOUR);
  const h = local.getUTCHours();
  const wd = local.getUTCDay();
  return Math.round(((wd >= 1 && wd <= 5 && h >= 8 && h < 18 ? 40 : 8) * (1 + 0.02 * Math.sin(ts / 7_777_777))) * 1000) / 1000;
}
const local = (ts: number): string => new Date(ts + OFF * HOUR).toISOString().slice(0, 16).replace('T', ' ');

/** Hourly interval rows of a meter over [from, to), with +60 kWh an hour in [spikeFrom, spikeFrom + 3 h). */
function rows(meter: string, from: number, to: number, spikeFrom: number): string {
  const lines = ['meter,start,end,kwh'];
  for (let ts = from; ts < to; ts += HOUR) lines.push(`${meter},${local(ts)},${local(ts + HOUR)},${office(ts) + (ts >= spikeFrom && ts < spikeFrom + 3 * HOUR ? 60 : 0)}`);
  return Buffer.from(lines.join('\n')).toString('base64');
}

// Recent: five weeks up to the last full hour, a spike two days ago (Saturday 14:00–17:00).
const recentSpike = localTime('2026-05-30', 14 * 60, OFF);
// Old: five weeks ending 15 days ago, a spike 20 days ago (Tuesday 2026-05-12 14:00–17:00).
const oldSpike = localTime('2026-05-12', 14 * 60, OFF);

interface Alarm {
  id: string;
  type: string;
  device: string;
  state: string;
}

beforeAll(async () => {
  t = await testHub(
    {
      users: [{ username: 'fac', roles: ['facilities'], password: 'facilities-password' }],
      energy: {
        nodes: [
          { id: 'campus', type: 'campus' },
          { id: 'lib', type: 'building', parent: 'campus', use: 'library' },
        ],
        meters: [
          { id: 'pm-recent', node: 'lib', medium: 'power' },
          { id: 'pm-old', node: 'lib', medium: 'power' },
        ],
        anomalies: { backfillAlarmDays: 7 },
      },
    },
    undefined,
    clockAt(now),
  );
  fac = await login(t.hub, 'fac', 'facilities-password');
  admin = await login(t.hub);
});

afterAll(async () => {
  await t?.close();
});

const post = (data: string) => api<EnergyImportResult>(t.hub, fac, '/api/energy/import', { method: 'POST', body: { format: 'csv', data } });
const energyAlarms = async () => (await api<{ alarms: Alarm[] }>(t.hub, admin, '/api/alarms?type=energy.*')).body.alarms;

describe('backfilled hours and energy alarms', () => {
  const lastHour = Math.floor(now / HOUR) * HOUR - HOUR;
  const recent = rows('pm-recent', lastHour - 35 * DAY, lastHour, recentSpike);
  const old = rows('pm-old', now - 50 * DAY - (now % HOUR), now - 15 * DAY - (now % HOUR), oldSpike);

  it('an import whose spike ended two days ago raises the energy alarm at once', async () => {
    expect((await post(recent)).body).toMatchObject({ ok: true, kind: 'intervals' });
    const alarms = await energyAlarms();
    expect(alarms).toEqual([expect.objectContaining({ type: 'energy.spike', device: 'pm-recent', state: 'raised' })]);
  }, 60_000);

  it('an import whose spike ended 20 days ago lists the anomaly but raises no alarm', async () => {
    expect((await post(old)).body).toMatchObject({ ok: true, kind: 'intervals' });
    // No spike alarm for it (its data stopping 15 days ago is another matter: an energy.missing going on now).
    expect((await energyAlarms()).filter((a) => a.type === 'energy.spike').map((a) => a.device)).toEqual(['pm-recent']);
    expect((await energyAlarms()).map((a) => `${a.device} ${a.type}`).sort()).toEqual(['pm-old energy.missing', 'pm-recent energy.spike']);
    const list = await api<Anomalies>(t.hub, fac, `/api/energy/anomalies?from=${now - 30 * DAY}&to=${now}`);
    expect(list.status).toBe(200);
    const spikes = list.body.anomalies.filter((a) => a.kind === 'spike');
    expect(spikes).toEqual([
      expect.objectContaining({ meter: 'pm-old', medium: 'power', unit: 'kWh', from: oldSpike, to: oldSpike + 3 * HOUR, text: expect.objectContaining({ key: 'energy.anomaly.spike' }) }),
      expect.objectContaining({ meter: 'pm-recent', from: recentSpike, to: recentSpike + 3 * HOUR }),
    ]);
    expect(spikes[0]!.text.en).toMatch(/kWh/);
    expect(spikes[0]!.numbers.ratio).toBeGreaterThan(2);
    // One meter only.
    const one = await api<Anomalies>(t.hub, fac, `/api/energy/anomalies?from=${now - 30 * DAY}&to=${now}&meter=pm-old`);
    expect(new Set(one.body.anomalies.map((a) => a.meter))).toEqual(new Set(['pm-old']));
    expect((await api(t.hub, fac, `/api/energy/anomalies?meter=nope`)).status).toBe(404);
  }, 60_000);

  it('a re-import raises nothing again; a period longer than 31 days is refused with a clear 400', async () => {
    expect((await post(recent)).body).toMatchObject({ ok: true, imported: 0 });
    expect(await energyAlarms()).toHaveLength(2);
    const long = await api<{ message: string }>(t.hub, fac, `/api/energy/anomalies?from=${now - 40 * DAY}&to=${now}`);
    expect(long.status).toBe(400);
    expect(JSON.stringify(long.body)).toContain('at most 31 days per query');
  });
});
