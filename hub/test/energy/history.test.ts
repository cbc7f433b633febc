import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHubConfig } from '../../src/config.ts';
import { detect } from '../../src/energy/detection/detector.ts';
import { EnergyService } from '../../src/energy/service.ts';
import { DAY, HOUR, MIN15, localTime } from '../../src/energy/time.ts';
import { DuckDbTelemetryStore } from '../../src/store/duckdb-telemetry.ts';
import type { TelemetryRow } from '../../src/store/telemetry.ts';

// Rollups of readings of any age in any arrival order: the same year arriving in order (a rollup after each month)
// and shuffled (months in random order, a rollup after each) end with the same quarter hours, node sums, costs and
// anomalies; a late outbox batch from 40 days ago corrects its buckets. Times are fixed dates, never the wall clock.

const OFF = 8;
const start = localTime('2025-01-06', 0, OFF); // a Monday
const end = start + 364 * DAY;
const slots = [{ from: '00:00', to: '08:00', band: 'valley' }, { from: '08:00', to: '18:00', band: 'peak' }, { from: '18:00', to: '24:00', band: 'flat' }];
const config = parseHubConfig({
  energy: {
    nodes: [
      { id: 'campus', type: 'campus' },
      { id: 'lib', type: 'building', parent: 'campus', use: 'library' },
      { id: 'lab', type: 'building', parent: 'campus', use: 'lab' },
    ],
    meters: [
      { id: 'pm-lib', node: 'lib', medium: 'power' },
      { id: 'pm-lab', node: 'lab', medium: 'power' },
    ],
    tariffs: { grid: { kind: 'tou', medium: 'power', periods: [{ from: '2024-01-01', to: '2027-12-31', slots, prices: { peak: 1, flat: 0.6, valley: 0.3 } }] } },
    defaultTariffs: { power: 'grid' },
  },
}).energy;

/** Hourly register readings: a daily shape, weekends lower, and a week-long spike on the lab in June. */
function year(): TelemetryRow[] {
  const rows: TelemetryRow[] = [];
  const reg = { 'pm-lib': 1000, 'pm-lab': 50_000 };
  for (let t = start; t <= end; t += HOUR) {
    const h = ((t - start) / HOUR) % 24;
    const weekday = Math.floor((t - start) / DAY) % 7 < 5;
    const base = h >= 8 && h < 20 ? (weekday ? 40 : 15) : 8;
    const spike = t >= start + 160 * DAY + 10 * HOUR && t < start + 160 * DAY + 14 * HOUR ? 120 : 0;
    rows.push({ ts: t, device: 'pm-lib', metric: 'energy_kwh', value: reg['pm-lib'] });
    rows.push({ ts: t, device: 'pm-lab', metric: 'energy_kwh', value: reg['pm-lab'] });
    reg['pm-lib'] += base + (h % 5) * 0.25;
    reg['pm-lab'] += base * 2 + spike;
  }
  return rows;
}

const open: Array<{ close(): Promise<void> }> = [];
const dirs: string[] = [];
async function fresh(): Promise<{ telemetry: DuckDbTelemetryStore; energy: EnergyService }> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-history-'));
  dirs.push(dir);
  const telemetry = await DuckDbTelemetryStore.open(join(dir, 'telemetry.duckdb'));
  const energy = await EnergyService.open(join(dir, 'energy.duckdb'), config, telemetry);
  open.push(energy, telemetry);
  return { telemetry, energy };
}

afterAll(async () => {
  for (const o of open.reverse()) await o.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function picture(energy: EnergyService) {
  const q = async (id: string) => (await energy.consumption(id, start, end + DAY, '15m'))!.points;
  const hourly = (await energy.consumption('pm-lab', start, end, '1h'))!.points;
  const values: Array<number | null> = new Array(Math.round((end - start) / HOUR)).fill(null);
  for (const [t, v] of hourly) values[Math.round((t - start) / HOUR)] = v;
  const anomalies = detect({ start, values }, { calendar: { utcOffsetHours: OFF, holidays: [], vacations: [] }, medium: 'power', unit: 'kWh', dismissed: [] }).alerts;
  return {
    lib: await q('pm-lib'),
    lab: await q('pm-lab'),
    campus: await q('campus'),
    cost: await energy.cost('campus', start, end + DAY),
    anomalies: anomalies.map((a) => ({ kind: a.kind, from: a.from, to: a.to })),
  };
}

describe('rollups of history in any arrival order', () => {
  it('a year arriving out of order gives the same rollups, costs and anomalies as in order', async () => {
    const rows = year();
    const months = Array.from({ length: 13 }, (_, i) => rows.filter((r) => r.ts >= start + i * 28 * DAY && r.ts < start + (i + 1) * 28 * DAY + (i === 12 ? DAY : 0)));
    expect(months.reduce((a, m) => a + m.length, 0)).toBe(rows.length);

    const inOrder = await fresh();
    for (let i = 0; i < months.length; i++) {
      await inOrder.telemetry.append(months[i]!);
      await inOrder.energy.rollup(i === months.length - 1 ? end + 1 : start + (i + 1) * 28 * DAY);
    }
    const shuffled = await fresh();
    const order = [7, 2, 12, 0, 9, 4, 11, 1, 6, 10, 3, 8, 5];
    for (const i of order) {
      await shuffled.telemetry.append(months[i]!);
      await shuffled.energy.rollup(end + 1, { scanLate: true });
    }
    const a = await picture(inOrder.energy);
    const b = await picture(shuffled.energy);
    expect(a.lab.length).toBe(364 * 96);
    expect(b.lib).toEqual(a.lib);
    expect(b.lab).toEqual(a.lab);
    expect(b.campus).toEqual(a.campus);
    expect(b.cost).toEqual(a.cost);
    expect(a.anomalies.some((x) => x.kind === 'spike' && x.from <= start + 160 * DAY + 10 * HOUR && x.to > start + 160 * DAY + 10 * HOUR)).toBe(true);
    expect(b.anomalies).toEqual(a.anomalies);
    // Nothing new: another rollup (with a scan) changes nothing.
    expect((await shuffled.energy.rollup(end + 1, { scanLate: true })).recomputed).toBe(0);
    expect(await picture(shuffled.energy)).toEqual(b);
  }, 240_000);

  it('a late outbox batch from 40 days ago corrects its buckets', async () => {
    const now = localTime('2026-03-02', 12, OFF);
    const from = now - 60 * DAY;
    const holeFrom = now - 40 * DAY;
    const holeTo = holeFrom + 6 * HOUR;
    const rows: TelemetryRow[] = [];
    for (let t = from, v = 100; t <= now - HOUR; t += MIN15, v += (t / MIN15) % 4 === 0 ? 3 : 1) rows.push({ ts: t, device: 'pm-lib', metric: 'energy_kwh', value: v });
    const late = rows.filter((r) => r.ts > holeFrom && r.ts < holeTo);
    const complete = await fresh();
    await complete.telemetry.append(rows);
    await complete.energy.rollup(now);

    const gateway = await fresh();
    await gateway.telemetry.append(rows.filter((r) => !late.includes(r)));
    await gateway.energy.rollup(now);
    const gapped = (await gateway.energy.consumption('pm-lib', holeFrom, holeTo + HOUR, '15m'))!;
    expect(gapped.points.filter((p) => p[2].includes('gap'))).toHaveLength(1); // the whole hole in the bucket that closes it
    // The outbox batch arrives 40 days late; the next rollups (minute by minute, a scan within 15 minutes) correct it.
    await gateway.telemetry.append(late);
    const r = await gateway.energy.rollup(now + 60_000, { scanLate: true });
    expect(r.recomputed).toBe(1);
    const want = (await complete.energy.consumption('pm-lib', from, now, '15m'))!.points;
    expect((await gateway.energy.consumption('pm-lib', from, now, '15m'))!.points).toEqual(want);
    expect(await gateway.energy.cost('campus', from, now)).toEqual(await complete.energy.cost('campus', from, now));
    expect(await gateway.energy.consumption('campus', from, now, '1d')).toEqual(await complete.energy.consumption('campus', from, now, '1d'));
  }, 120_000);
});
