import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHubConfig } from '../../src/config.ts';
import { AnomalyFeedbackStore } from '../../src/energy/feedback.ts';
import { detectMeter, EnergyWatch } from '../../src/energy/watch.ts';
import { openStateDb, type StateDb } from '../../src/store/state-db.ts';
import type { StoredEvent } from '../../src/store/events.ts';

/**
 * The watch is incremental: each hour it fetches and judges only the new hours of each meter (the detector's running
 * state keeps the baselines), and its verdicts are those of the detector run over the same hours at once. A
 * backfill or new feedback rebuilds the meter's run. Hourly use is an in-memory series; times are fixed dates.
 */
const HOUR = 3_600_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 2, 1, 16); // local (UTC+8) midnight, 2026-03-02
const config = parseHubConfig({
  energy: {
    nodes: [
      { id: 'campus', type: 'campus' },
      { id: 'lib', type: 'building', parent: 'campus', use: 'library' },
    ],
    meters: [
      { id: 'pm-1', node: 'lib', medium: 'power' },
      { id: 'pm-2', node: 'lib', medium: 'power' },
    ],
  },
}).energy;

function use(meter: string, ts: number): number {
  const local = new Date(ts + 8 * HOUR);
  const work = local.getUTCDay() >= 1 && local.getUTCDay() <= 5 && local.getUTCHours() >= 8 && local.getUTCHours() < 18;
  const spike = meter === 'pm-2' && ts >= START + 40 * DAY + 14 * HOUR && ts < START + 40 * DAY + 17 * HOUR ? 90 : 0;
  return (work ? 40 : 8) * (1 + 0.02 * Math.sin(ts / 7_777_777)) + spike;
}

let dir: string;
let db: StateDb;
let feedback: AnomalyFeedbackStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-watch-inc-'));
  db = openStateDb(join(dir, 'state.db'));
  feedback = new AnomalyFeedbackStore(db);
});
afterAll(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('incremental energy watch', () => {
  it('judges only new hours each tick, with the verdicts of a run over the whole series; a backfill rebuilds', async () => {
    const fetched: Array<{ meter: string; hours: number }> = [];
    const events: StoredEvent[] = [];
    const hourly = async (meter: string, from: number, to: number) => {
      const rows: Array<[number, number]> = [];
      for (let t = Math.max(from, START); t < to; t += HOUR) rows.push([t, use(meter, t)]);
      fetched.push({ meter, hours: (to - from) / HOUR });
      return rows;
    };
    const watch = new EnergyWatch({ config, hourly, feedback, emit: (e) => events.push(e), log: pino({ enabled: false }), graceMs: 0 });
    const first = START + 38 * DAY;
    await watch.tick(first);
    expect(watch.stats).toEqual({ full: 2, incremental: 0 });
    fetched.length = 0;
    for (let now = first + HOUR; now <= START + 42 * DAY; now += HOUR) await watch.tick(now);
    // 4 days of hourly ticks: every later fetch is the one new hour.
    expect(watch.stats).toEqual({ full: 2, incremental: 2 * 4 * 24 });
    expect(fetched.every((f) => f.hours === 1)).toBe(true);
    // The spike was raised once as it happened, then ended.
    const spikes = events.filter((e) => e.type === 'energy.anomaly' && e.device === 'pm-2' && e.data.kind === 'spike');
    expect(spikes.length).toBeGreaterThanOrEqual(1);
    expect(new Set(spikes.map((e) => e.data.from))).toEqual(new Set([START + 40 * DAY + 14 * HOUR]));
    expect(events.some((e) => e.type === 'energy.normal' && e.device === 'pm-2' && e.data.kind === 'spike')).toBe(true);
    expect(events.filter((e) => e.device === 'pm-1')).toEqual([]);

    // The same verdicts as the detector over the same hours at once.
    const end = START + 42 * DAY;
    const rows = await hourly('pm-2', START, end);
    const once = detectMeter(config, feedback, 'pm-2', 'power', rows, end);
    expect(once.alerts.map((a) => [a.kind, a.from, a.to])).toEqual([['spike', START + 40 * DAY + 14 * HOUR, START + 40 * DAY + 17 * HOUR]]);

    // A backfill of pm-1 rebuilds its run (and only its).
    await watch.tick(end + 10 * 60_000, new Map([['pm-1', end - 5 * DAY]]));
    expect(watch.stats).toEqual({ full: 3, incremental: 2 * 4 * 24 });
  }, 60_000);
});
