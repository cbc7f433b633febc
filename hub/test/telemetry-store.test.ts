import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbTelemetryStore } from '../src/store/duckdb-telemetry.ts';
import type { TelemetryRow } from '../src/store/telemetry.ts';

const T0 = Date.UTC(2026, 0, 1); // a bucket boundary for any step that divides a day
const MIN = 60_000;

describe('DuckDB telemetry store', () => {
  let dir: string;
  let store: DuckDbTelemetryStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-hub-duck-'));
    store = await DuckDbTelemetryStore.open(join(dir, 't.duckdb'));
    // One reading per minute for two hours: value = minute index. Plus noise on other series.
    const rows: TelemetryRow[] = [];
    for (let i = 0; i < 120; i++) {
      rows.push({ ts: T0 + i * MIN, device: 'meter-1', metric: 'power_kw', value: i });
      rows.push({ ts: T0 + i * MIN, device: 'meter-2', metric: 'power_kw', value: 1000 });
      rows.push({ ts: T0 + i * MIN, device: 'meter-1', metric: 'energy_kwh', value: -1 });
    }
    await store.append(rows);
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const q = (agg: 'avg' | 'min' | 'max' | 'last' | 'sum', stepMs = 60 * MIN) =>
    store.query({ device: 'meter-1', metric: 'power_kw', from: T0, to: T0 + 120 * MIN, stepMs, agg });

  it('downsamples into epoch-aligned buckets with each aggregate', async () => {
    expect(await q('avg')).toEqual([
      [T0, 29.5],
      [T0 + 60 * MIN, 89.5],
    ]);
    expect(await q('min')).toEqual([
      [T0, 0],
      [T0 + 60 * MIN, 60],
    ]);
    expect(await q('max')).toEqual([
      [T0, 59],
      [T0 + 60 * MIN, 119],
    ]);
    expect(await q('last')).toEqual([
      [T0, 59],
      [T0 + 60 * MIN, 119],
    ]);
    expect(await q('sum')).toEqual([
      [T0, 1770],
      [T0 + 60 * MIN, 5370],
    ]);
    expect((await q('avg', 15 * MIN)).map(([t]) => t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => T0 + i * 15 * MIN));
  });

  it('honours the time range (from inclusive, to exclusive) and leaves empty buckets out', async () => {
    const pts = await store.query({ device: 'meter-1', metric: 'power_kw', from: T0 + 10 * MIN, to: T0 + 20 * MIN, stepMs: MIN, agg: 'avg' });
    expect(pts.map(([, v]) => v)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(await store.query({ device: 'meter-9', metric: 'power_kw', from: T0, to: T0 + MIN, stepMs: MIN, agg: 'avg' })).toEqual([]);
  });

  it('keeps data across reopen', async () => {
    await store.close();
    store = await DuckDbTelemetryStore.open(join(dir, 't.duckdb'));
    expect((await q('max')).length).toBe(2);
  });
});
