import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHubConfig } from '../../src/config.ts';
import { EnergyService } from '../../src/energy/service.ts';
import { HOUR, MIN15, localTime } from '../../src/energy/time.ts';
import { DuckDbTelemetryStore } from '../../src/store/duckdb-telemetry.ts';
import type { TelemetryRow } from '../../src/store/telemetry.ts';

const OFF = 8;
const day0 = localTime('2026-11-02', 0, OFF); // Monday, campus midnight
const flatAll = [{ from: '00:00', to: '08:00', band: 'valley' }, { from: '08:00', to: '18:00', band: 'peak' }, { from: '18:00', to: '24:00', band: 'flat' }];
const config = parseHubConfig({
  energy: {
    nodes: [
      { id: 'campus', type: 'campus' },
      { id: 'north', type: 'zone', parent: 'campus' },
      { id: 'teach-a', type: 'building', parent: 'north', use: 'teaching', name: 'Teaching A' },
      { id: 'teach-a-1f', type: 'floor', parent: 'teach-a' },
      { id: 'dorm-1', type: 'building', parent: 'north', use: 'dorm' },
    ],
    meters: [
      { id: 'pm-a', node: 'teach-a', medium: 'power', rolloverAt: 100000 },
      { id: 'pm-a-1f', node: 'teach-a-1f', medium: 'power' },
      { id: 'wm-d', node: 'dorm-1', medium: 'water' },
    ],
    virtualMeters: [{ id: 'loss-a', node: 'teach-a', medium: 'power', plus: ['pm-a'], minus: ['pm-a-1f'] }],
    replacements: [{ meter: 'pm-a-1f', at: new Date(day0 + 12 * HOUR + 5 * 60_000).toISOString(), oldFinal: 5048.25, newInitial: 0 }],
    tariffs: {
      grid: { kind: 'tou', medium: 'power', periods: [{ from: '2026-01-01', to: '2026-12-31', slots: flatAll, prices: { peak: 1, flat: 0.5, valley: 0.25 } }] },
      water: { kind: 'tiered', medium: 'water', tiers: [{ upTo: 10, price: 3 }, { price: 5 }] },
    },
    defaultTariffs: { power: 'grid', water: 'water' },
  },
}).energy;

let dir: string;
let telemetry: DuckDbTelemetryStore;
let energy: EnergyService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-energy-'));
  telemetry = await DuckDbTelemetryStore.open(join(dir, 'telemetry.duckdb'));
  const rows: TelemetryRow[] = [];
  // Two days every 15 minutes. Main meter: 4 kWh per quarter (16 kW, above the 15 kW night threshold),
  // rolling over at 100000. Floor meter: 1 kWh per quarter, replaced at 12:05 on day 1.
  for (let i = 0; i <= 2 * 96; i++) {
    const ts = day0 + i * MIN15;
    rows.push({ ts, device: 'pm-a', metric: 'energy_kwh', value: (99_900 + 4 * i) % 100_000 });
    const floor = ts < day0 + 12 * HOUR + 5 * 60_000 ? 5000 + i : i - 49 + 0.75; // 12:00 → 5048, swapped at 5048.25, new meter 0.75 at 12:15
    rows.push({ ts, device: 'pm-a-1f', metric: 'energy_kwh', value: floor });
    rows.push({ ts, device: 'pm-a', metric: 'power_kw', value: 16 });
  }
  // Water: 0.5 m³ per quarter for the first 6 hours, then a 4-hour gap, then on again.
  for (let i = 0; i <= 96; i++) {
    if (i > 24 && i < 40) continue;
    rows.push({ ts: day0 + i * MIN15, device: 'wm-d', metric: 'volume_m3', value: 100 + 0.5 * i });
  }
  await telemetry.append(rows);
  energy = await EnergyService.open(join(dir, 'energy.duckdb'), config, telemetry);
});

afterAll(async () => {
  await energy?.close();
  await telemetry?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('energy service on DuckDB', () => {
  it('rolls registers into 15-minute consumption: rollover, replacement and gap handled and flagged', async () => {
    const r = await energy.rollup(day0 + 2 * 86_400_000 + 1);
    expect(r.problems).toBe(0);
    const main = (await energy.consumption('pm-a', day0, day0 + 2 * 86_400_000, '1d'))!;
    expect(main.points.map((p) => p[1])).toEqual([384, 384]);
    expect(main.points[0]![2]).toEqual(['rollover']);
    const floor = (await energy.consumption('pm-a-1f', day0 + 12 * HOUR, day0 + 12.5 * HOUR, '15m'))!;
    expect(floor.points).toEqual([[day0 + 12 * HOUR, 1, ['replacement']], [day0 + 12.25 * HOUR, 1, []]]);
    const water = (await energy.consumption('wm-d', day0, day0 + 86_400_000, '1h'))!;
    expect(water.total).toBe(48);
    const gapHour = water.points.find((p) => p[2].includes('gap'))!;
    expect(gapHour).toEqual([day0 + 9 * HOUR, 8, ['gap']]); // 16 quarters' worth in 09:45-10:00, closed by the reading that ends the gap
    expect(water.points.some((p) => p[0] >= day0 + 6 * HOUR && p[0] < day0 + 9 * HOUR)).toBe(false);
  });

  it('a second rollup adds only what is new', async () => {
    expect((await energy.rollup(day0 + 2 * 86_400_000 + 1)).quarters).toBe(0);
    expect((await energy.consumption('campus', day0, day0 + 2 * 86_400_000, '1mo'))!.total).toBe(768);
  });

  it('virtual meter: building minus sub-meter = losses; node totals use the main meter', async () => {
    const loss = (await energy.consumption('loss-a', day0, day0 + 86_400_000, '1d'))!;
    expect(loss.kind).toBe('virtual');
    expect(loss.total).toBe(384 - 96);
    expect((await energy.consumption('teach-a', day0, day0 + 86_400_000, '1d'))!.total).toBe(384);
  });

  it('cost: TOU power by band and tiered water per month', async () => {
    const c = (await energy.cost('campus', day0, day0 + 86_400_000))!;
    const power = c.media.find((m) => m.medium === 'power')!;
    expect(power.byBand).toEqual({ valley: { amount: 128, cost: 32 }, peak: { amount: 160, cost: 160 }, flat: { amount: 96, cost: 48 } });
    const water = c.media.find((m) => m.medium === 'water')!;
    expect(water.amount).toBe(48);
    expect(water.cost).toBe(10 * 3 + 38 * 5);
    expect(c.total).toBe(240 + 220);
  });

  it('node rollups follow the hierarchy: a changed config rebuilds them from the meter quarter hours', async () => {
    await energy.close();
    const moved = structuredClone(config) as typeof config;
    (moved.meters as Array<{ id: string; node: string }>).find((m) => m.id === 'pm-a')!.node = 'dorm-1';
    energy = await EnergyService.open(join(dir, 'energy.duckdb'), moved, telemetry);
    const day = [day0, day0 + 86_400_000] as const;
    expect((await energy.consumption('teach-a', ...day, '1d'))!.total).toBe(96);
    expect((await energy.consumption('dorm-1', ...day, '1d'))!.total).toBe(384);
    expect((await energy.consumption('campus', ...day, '1d'))!.total).toBe(480);
  });
});
