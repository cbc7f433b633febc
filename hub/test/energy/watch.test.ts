import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseHubConfig } from '../../src/config.ts';
import { AnomalyFeedbackStore } from '../../src/energy/feedback.ts';
import { EnergyService } from '../../src/energy/service.ts';
import { EnergyWatch } from '../../src/energy/watch.ts';
import { DuckDbTelemetryStore } from '../../src/store/duckdb-telemetry.ts';
import { openStateDb, type StateDb } from '../../src/store/state-db.ts';
import type { TelemetryRow } from '../../src/store/telemetry.ts';
import { alarmHarness, MONDAY_10AM, type Harness } from '../alarms/harness.ts';

const HOUR = 3_600_000;
const MIN15 = 900_000;
const DAY = 86_400_000;
/** Local (UTC+8) midnight 30 days before the harness's Monday 10:00. */
const START = MONDAY_10AM - 10 * HOUR - 30 * DAY;

const config = parseHubConfig({
  energy: {
    nodes: [
      { id: 'campus', type: 'campus' },
      { id: 'lib', type: 'building', parent: 'campus', use: 'library' },
    ],
    meters: [{ id: 'meter-1', node: 'lib', medium: 'power' }],
  },
}).energy;

/** kW of an office at a local time: 40 at night, 160 from 08 to 18 on working days; small deterministic ripple. */
function kw(ts: number): number {
  const local = ts + 8 * HOUR;
  const h = Math.floor((local % DAY) / HOUR);
  const wd = new Date(local).getUTCDay();
  const work = wd >= 1 && wd <= 5;
  return (work && h >= 8 && h < 18 ? 160 : 40) * (1 + 0.02 * Math.sin(ts / 7_777_777));
}

describe('energy watch: anomalies raised as energy alarms as data arrives', () => {
  let dir: string;
  let telemetry: DuckDbTelemetryStore;
  let service: EnergyService;
  let db: StateDb;
  let h: Harness;
  let register = 0;
  let last = START;

  /** Register readings every 15 minutes up to `to`, the hub rollup, then one watch tick at `to`. */
  async function feed(watch: EnergyWatch, to: number, extraKw: (ts: number) => number = () => 0): Promise<number> {
    const rows: TelemetryRow[] = [];
    for (let t = last + MIN15; t <= to; t += MIN15) {
      register += ((kw(t - MIN15) + extraKw(t - MIN15)) * MIN15) / HOUR;
      rows.push({ ts: t, device: 'meter-1', metric: 'energy_kwh', value: Math.round(register * 1000) / 1000 });
    }
    if (rows.length) await telemetry.append(rows);
    last = Math.max(last, to - (to % MIN15));
    await service.rollup(to);
    return watch.tick(to);
  }

  const watchOf = () =>
    new EnergyWatch({
      config,
      hourly: async (m, from, to) => (await service.consumption(m, from, to, '1h'))!.points.map(([t, v]) => [t, v] as const),
      feedback: new AnomalyFeedbackStore(db),
      emit: (e) => h.engine.handle(e),
      log: pino({ enabled: false }),
    });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-energy-watch-'));
    telemetry = await DuckDbTelemetryStore.open(join(dir, 'telemetry.duckdb'));
    service = await EnergyService.open(join(dir, 'energy.duckdb'), config, telemetry);
    db = openStateDb(join(dir, 'state.db'));
    h = await alarmHarness();
    register = 1000;
    last = START;
    await telemetry.append([{ ts: START, device: 'meter-1', metric: 'energy_kwh', value: register }]);
  });
  afterEach(async () => {
    await h.close();
    db.close();
    await service.close();
    await telemetry.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a normal month raises nothing; a spike raises energy.spike with its numbers, once per hour; its end clears the condition', async () => {
    const watch = watchOf();
    // 30 ordinary days up to Monday 03:10 local.
    expect(await feed(watch, START + 30 * DAY - 7 * HOUR + 10 * 60_000)).toBe(1);
    expect(h.all()).toEqual([]);
    // Monday 03:00–05:00 local: something draws 120 kW more at night.
    const extra = (ts: number) => (ts >= START + 30 * DAY + 3 * HOUR && ts < START + 30 * DAY + 5 * HOUR ? 120 : 0);
    await feed(watch, START + 30 * DAY + 4 * HOUR + 10 * 60_000, extra);
    const a = h.all();
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ device: 'meter-1', state: 'raised', building: 'lib' });
    expect(['energy.spike', 'energy.night_base_load']).toContain(a[0]!.type);
    const detail = h.repo.timeline(a[0]!.id)[0]!.detail as { numbers: Record<string, number>; en: string; zh: string; from: number };
    expect(detail.from).toBe(START + 30 * DAY + 3 * HOUR);
    expect(detail.numbers.actual).toBeGreaterThan(150);
    expect(detail.en).toMatch(/kWh/);
    expect(detail.zh.length).toBeGreaterThan(5);
    // The same hour is not judged twice.
    expect(await watch.tick(START + 30 * DAY + 4 * HOUR + 20 * 60_000)).toBe(0);
    // Still going at 04:00, folded into the open alarm; normal again from 05:00: condition cleared.
    await feed(watch, START + 30 * DAY + 5 * HOUR + 10 * 60_000, extra);
    expect(h.repo.get(a[0]!.id)!.count).toBe(2);
    await feed(watch, START + 30 * DAY + 6 * HOUR + 10 * 60_000, extra);
    expect(h.repo.get(a[0]!.id)).toMatchObject({ state: 'raised', conditionCleared: true });
  });

  it('"not an anomaly" is kept and used: the dismissed window raises nothing after a restart, nor does the same pattern next week', async () => {
    await dismissedScenario(true);
  });

  it('without that feedback the same pattern next week raises again', async () => {
    await dismissedScenario(false);
  });

  async function dismissedScenario(dismiss: boolean): Promise<void> {
    const fb = new AnomalyFeedbackStore(db);
    // Saturday 02:00–04:00 local, two weeks running: a cleaning machine the facilities team knows about.
    const sat1 = START + 26 * DAY; // Saturday of the last week
    const extra = (ts: number) => (ts >= sat1 - 7 * DAY + 2 * HOUR && ts < sat1 - 7 * DAY + 4 * HOUR) || (ts >= sat1 + 2 * HOUR && ts < sat1 + 4 * HOUR) ? 150 : 0;
    const first = watchOf();
    await feed(first, sat1 - 7 * DAY + 4 * HOUR + 10 * 60_000, extra);
    const raised = h.all();
    expect(raised).toHaveLength(1);
    if (dismiss) fb.add({ meter: 'meter-1', kind: null, from: sat1 - 7 * DAY + 2 * HOUR, to: sat1 - 7 * DAY + 4 * HOUR, note: 'floor scrubber', by: 'facilities', at: sat1 - 7 * DAY + 5 * HOUR });
    h.engine.resolve(raised[0]!.id, 'facilities', 'not an anomaly');
    // A restarted watch over the same data and the next week's identical pattern: nothing new.
    const again = watchOf();
    await feed(again, sat1 + 4 * HOUR + 10 * 60_000, extra);
    if (!dismiss) {
      expect(h.all()).toHaveLength(2);
      return;
    }
    expect(h.all()).toHaveLength(1);
    expect(fb.list('meter-1')).toMatchObject([{ kind: null, note: 'floor scrubber', by: 'facilities' }]);
  }
});
