import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseHubConfig } from '@warden/hub/config.ts';
import { EnergyService } from '@warden/hub/energy/service.ts';
import { touCost } from '@warden/hub/energy/tariffs.ts';
import { bucketStart, localTime, nextBucket, MIN15 } from '@warden/hub/energy/time.ts';
import type { TouTariff } from '@warden/hub/energy/config.ts';
import { DuckDbTelemetryStore } from '@warden/hub/store/duckdb-telemetry.ts';
import { fmt, printTable, summarize, type Row } from './stats.ts';

const OFF = 8;
const METERS_PER_BUILDING = 10;

/** An office day: low at night, high 08:00-18:00, per quarter hour of the day. */
function shape(q: number): number {
  const h = q / 4;
  return h >= 8 && h < 18 ? 1 : h >= 6 && h < 22 ? 0.5 : 0.18;
}

function tariff(): TouTariff {
  return {
    kind: 'tou',
    medium: 'power',
    periods: [
      {
        from: '2000-01-01',
        to: '2099-12-31',
        slots: [
          { from: '00:00', to: '08:00', band: 'valley' },
          { from: '08:00', to: '10:30', band: 'flat' },
          { from: '10:30', to: '11:45', band: 'peak' },
          { from: '11:45', to: '18:00', band: 'flat' },
          { from: '18:00', to: '23:00', band: 'peak' },
          { from: '23:00', to: '24:00', band: 'valley' },
        ],
        prices: { peak: 1.12, flat: 0.68, valley: 0.31 },
      },
    ],
  };
}

async function dirSize(dir: string, prefix: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir)) if (f.startsWith(prefix)) n += (await stat(join(dir, f))).size;
  return n;
}

async function timeIt(runs: number, fn: () => Promise<unknown> | unknown): Promise<{ first: number; p50: number }> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return { first: samples[0]!, p50: summarize(samples.slice(1)).p50 };
}

/**
 * One year of 15-minute consumption for 2,000 meters (~70 million quarter hours) loaded into the hub's
 * embedded energy store (DuckDB, meter quarter hours through the store's appender, then the per-node sums
 * rebuilt in one SQL statement, the bulk-import path; load time includes both), then the
 * two questions facilities ask most, answered by the hub's own EnergyService: one building's daily
 * consumption over the year, and the campus's monthly cost (TOU by band). Baseline: the same rows and
 * queries in SQLite (better-sqlite3, indexed on meter and time) over the meter rows, in the same run.
 * Size: WARDEN_BENCH_ENERGY_METERS (2000), WARDEN_BENCH_ENERGY_DAYS (365).
 */
export async function benchEnergy(meters = 2000, days = 365): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-bench-energy-'));
  const buildings = Math.max(1, Math.ceil(meters / METERS_PER_BUILDING));
  const meterIds = Array.from({ length: meters }, (_, i) => `pm-${String(i).padStart(5, '0')}`);
  const config = parseHubConfig({
    energy: {
      nodes: [
        { id: 'campus', type: 'campus' },
        ...Array.from({ length: buildings }, (_, b) => ({ id: `b-${b}`, type: 'building', parent: 'campus' })),
        ...meterIds.map((_, i) => ({ id: `b-${Math.floor(i / METERS_PER_BUILDING)}-f${i % METERS_PER_BUILDING}`, type: 'floor', parent: `b-${Math.floor(i / METERS_PER_BUILDING)}` })),
      ],
      meters: meterIds.map((id, i) => ({ id, node: `b-${Math.floor(i / METERS_PER_BUILDING)}-f${i % METERS_PER_BUILDING}`, medium: 'power', tariff: 'grid' })),
      tariffs: { grid: tariff() },
    },
  }).energy;
  const start = localTime('2025-01-01', 0, OFF);
  const end = start + days * 86_400_000;
  const scale = meterIds.map((_, i) => 2 + (i % 17)); // kWh per busy quarter hour
  let seed = 12345;
  const noise = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 0.2 + 0.9;
  const total = meters * days * 96;
  console.log(`\nenergy: ${meters} meters × ${days} days × 96 quarter hours = ${fmt(total, 0)} rows (temp dir ${dir})`);

  // --- Warden: DuckDB through the hub's store and service.
  const telemetry = await DuckDbTelemetryStore.open(join(dir, 'telemetry.duckdb'));
  const energy = await EnergyService.open(join(dir, 'energy.duckdb'), config, telemetry);
  const rssBefore = process.memoryUsage().rss;
  let t = performance.now();
  for (let d = 0; d < days; d++) {
    const dayStart = start + d * 86_400_000;
    const rows: Array<{ meter: string; bucket: { start: number; amount: number; flags: never[] } }> = [];
    for (let m = 0; m < meters; m++) {
      for (let q = 0; q < 96; q++) rows.push({ meter: meterIds[m]!, bucket: { start: dayStart + q * MIN15, amount: scale[m]! * shape(q) * noise(), flags: [] } });
    }
    // Bulk import: meter quarter hours through the store's appender; node sums once at the end, in SQL.
    energy.store.append(rows);
  }
  await energy.rebuildNodeRollups();
  await energy.store.checkpoint();
  const duckLoadS = (performance.now() - t) / 1000;
  const duckRss = process.memoryUsage().rss;
  const duckDisk = await dirSize(dir, 'energy.duckdb');
  const building = `b-${Math.floor(buildings / 2)}`;
  const monthFrom = bucketStart(start + Math.floor(days / 2) * 86_400_000, '1mo', OFF);
  const monthTo = Math.min(nextBucket(monthFrom, '1mo', OFF), end);
  const duckDaily = await timeIt(6, () => energy.consumption(building, start, end, '1d'));
  const duckCost = await timeIt(6, () => energy.cost('campus', monthFrom, monthTo));
  const check = await energy.consumption(building, start, end, '1d');
  const checkCost = await energy.cost('campus', monthFrom, monthTo);
  await energy.close();
  await telemetry.close();

  // --- Baseline: SQLite, same rows, same questions.
  const db = new Database(join(dir, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE consumption_15m (bucket INTEGER NOT NULL, meter TEXT NOT NULL, amount REAL NOT NULL, flags TEXT)');
  const insert = db.prepare('INSERT INTO consumption_15m VALUES (?, ?, ?, NULL)');
  seed = 12345;
  t = performance.now();
  for (let d = 0; d < days; d++) {
    const dayStart = start + d * 86_400_000;
    db.transaction(() => {
      for (let m = 0; m < meters; m++) for (let q = 0; q < 96; q++) insert.run(dayStart + q * MIN15, meterIds[m]!, scale[m]! * shape(q) * noise());
    })();
  }
  db.exec('CREATE INDEX consumption_meter_time ON consumption_15m (meter, bucket)');
  db.exec('CREATE INDEX consumption_time ON consumption_15m (bucket)');
  db.pragma('wal_checkpoint(TRUNCATE)');
  const sqliteLoadS = (performance.now() - t) / 1000;
  const sqliteRss = process.memoryUsage().rss;
  const sqliteDisk = await dirSize(dir, 'baseline.sqlite');
  const buildingMeters = config.meters.filter((m) => m.node.startsWith(`${building}-`)).map((m) => m.id);
  const dailySql = db.prepare(
    `SELECT ((bucket + ${OFF * 3_600_000}) / 86400000) * 86400000 - ${OFF * 3_600_000} AS day, sum(amount) FROM consumption_15m
     WHERE meter IN (${buildingMeters.map(() => '?').join(',')}) AND bucket >= ? AND bucket < ? GROUP BY day ORDER BY day`,
  );
  const monthSql = db.prepare('SELECT bucket, sum(amount) FROM consumption_15m WHERE bucket >= ? AND bucket < ? GROUP BY bucket ORDER BY bucket');
  const sqliteDaily = await timeIt(6, () => dailySql.raw().all(...buildingMeters, start, end));
  const sqliteCost = await timeIt(6, () => touCost(monthSql.raw().all(monthFrom, monthTo) as Array<[number, number]>, config.tariffs.grid as TouTariff, OFF));
  const sqliteCheck = touCost(monthSql.raw().all(monthFrom, monthTo) as Array<[number, number]>, config.tariffs.grid as TouTariff, OFF);
  db.close();
  await rm(dir, { recursive: true, force: true });

  const same = Math.abs(sqliteCheck.cost - checkCost!.total) < 1e-3 * Math.max(1, sqliteCheck.cost) ? 'same answer' : `DIFFERENT: ${sqliteCheck.cost}`;
  const mib = (b: number) => `${fmt(b / 2 ** 20)} MiB`;
  const ratio = (w: number, b: number) => (b / w).toFixed(1) + '×';
  const rows: Row[] = [
    { metric: 'load rate (rows/s)', warden: fmt(total / duckLoadS, 0), baseline: `${fmt(total / sqliteLoadS, 0)} (SQLite)`, ratio: ratio(1 / (total / duckLoadS), 1 / (total / sqliteLoadS)) },
    { metric: 'load time (s)', warden: fmt(duckLoadS), baseline: fmt(sqliteLoadS), ratio: ratio(duckLoadS, sqliteLoadS) },
    { metric: 'disk size', warden: mib(duckDisk), baseline: mib(sqliteDisk), ratio: ratio(duckDisk, sqliteDisk) },
    { metric: 'resident memory after load (process)', warden: mib(duckRss), baseline: `${mib(sqliteRss)} (after both)`, ratio: '' },
    { metric: `building daily over ${days} d, p50 ms (first)`, warden: `${fmt(duckDaily.p50)} (${fmt(duckDaily.first)})`, baseline: `${fmt(sqliteDaily.p50)} (${fmt(sqliteDaily.first)})`, ratio: ratio(duckDaily.p50, sqliteDaily.p50) },
    { metric: 'campus monthly TOU cost, p50 ms (first)', warden: `${fmt(duckCost.p50)} (${fmt(duckCost.first)})`, baseline: `${fmt(sqliteCost.p50)} (${fmt(sqliteCost.first)}), ${same}`, ratio: ratio(duckCost.p50, sqliteCost.p50) },
  ];
  printTable(`energy store: ${fmt(total, 0)} quarter hours, ${meters} meters, ${days} days (DuckDB vs SQLite)`, rows);
  console.log(`  rss before load ${mib(rssBefore)}; building ${building}: ${check!.points.length} days, ${fmt(check!.total)} kWh; campus month cost ${fmt(checkCost!.total)}; target < 200 ms each`);
}
