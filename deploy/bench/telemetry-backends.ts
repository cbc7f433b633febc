import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbTelemetryStore } from '@warden/hub/store/duckdb-telemetry.ts';
import { InfluxDbTelemetryStore } from '@warden/hub/store/influx-telemetry.ts';
import type { TelemetryRow, TelemetryStore } from '@warden/hub/store/telemetry.ts';
import { VictoriaMetricsTelemetryStore } from '@warden/hub/store/victoria-telemetry.ts';
import { haveInfluxd, haveVictoria, startInfluxd, startVictoria, type TsdbServer } from '../../hub/test/tsdb-servers.ts';
import { fmt, summarize } from './stats.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const BATCH = 1_000;

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return 'uptime unavailable';
  }
}

/**
 * `npm run bench telemetry-backends`: the hub's telemetry store on the embedded DuckDB file (the baseline) against
 * InfluxDB 1.6 and VictoriaMetrics servers started here on 127.0.0.1 (Debian's influxd, victoria-metrics), in one run.
 * Workload: `meters` meters × 31 days of one reading a minute, appended in batches of 1,000 rows one after the other
 * (as ingest does: the next append starts when the last resolved); then queries of one meter: a day at 1-minute
 * buckets (avg, 1,440 points) and the month at 1-hour buckets (avg, 744 points), p50 / p99 of `queries` each.
 * VictoriaMetrics runs twice: as configured by default (acknowledged once in its memory buffer) and with
 * flushEachAppend (each append waits for /internal/force_flush).
 */
export async function benchTelemetryBackends(meters = 5, queries = 40): Promise<void> {
  console.log(`\n== telemetry backends: ${meters} meters x 31 days at 1/min, appends of ${BATCH} rows; queries of one meter`);
  console.log(`load before: ${uptime()}`);
  const T0 = Date.UTC(2026, 0, 1);
  const rows: TelemetryRow[] = [];
  for (let m = 0; m < 31 * 1440; m++) for (let d = 0; d < meters; d++) rows.push({ ts: T0 + m * MIN, device: `meter-${d}`, metric: 'power_kw', value: Math.round((50 + 30 * Math.sin(m / 200) + d) * 1000) / 1000 });

  const dir = await mkdtemp(join(tmpdir(), 'warden-bench-tsdb-'));
  let influxd: TsdbServer | undefined;
  let victoria: TsdbServer | undefined;
  let victoriaFlush: TsdbServer | undefined;
  if (!haveInfluxd) console.log('SKIPPING InfluxDB: /usr/bin/influxd is not installed (Debian package influxdb)');
  if (!haveVictoria) console.log('SKIPPING VictoriaMetrics: /usr/bin/victoria-metrics is not installed (Debian package victoria-metrics)');
  try {
    [influxd, victoria, victoriaFlush] = await Promise.all([haveInfluxd ? startInfluxd() : undefined, haveVictoria ? startVictoria() : undefined, haveVictoria ? startVictoria() : undefined]);
    const stores: Array<{ name: string; open: () => Promise<TelemetryStore>; flush?: TsdbServer }> = [{ name: 'duckdb (embedded, baseline)', open: () => DuckDbTelemetryStore.open(join(dir, 't.duckdb')) }];
    if (influxd) {
      const s = influxd;
      stores.push({ name: 'influxdb 1.6', open: () => InfluxDbTelemetryStore.open({ url: s.url, database: 'bench', username: s.username, password: s.password, timeoutMs: 60_000 }) });
    }
    if (victoria && victoriaFlush) {
      const v = victoria;
      const vf = victoriaFlush;
      stores.push({ name: 'victoriametrics', open: () => VictoriaMetricsTelemetryStore.open({ url: v.url, username: v.username, password: v.password, timeoutMs: 60_000 }), flush: v });
      stores.push({ name: 'victoriametrics flushEachAppend', open: () => VictoriaMetricsTelemetryStore.open({ url: vf.url, username: vf.username, password: vf.password, timeoutMs: 60_000, flushEachAppend: true }), flush: vf });
    }
    const table: string[][] = [['store', 'append rows/s', 'append p50 ms', 'day@1min p50 / p99 ms', 'month@1h p50 / p99 ms']];
    let base: { rate: number; day: number; month: number } | undefined;
    for (const s of stores) {
      const store = await s.open();
      try {
        const lat: number[] = [];
        const t0 = performance.now();
        for (let i = 0; i < rows.length; i += BATCH) {
          const a = performance.now();
          await store.append(rows.slice(i, i + BATCH));
          lat.push(performance.now() - a);
        }
        const rate = rows.length / ((performance.now() - t0) / 1000);
        // VictoriaMetrics shows rows to queries once its buffer is flushed (about a second): flushed once here.
        if (s.flush) await fetch(`${s.flush.url}/internal/force_flush`, { headers: { authorization: `Basic ${Buffer.from(`${s.flush.username}:${s.flush.password}`).toString('base64')}` } });
        const dayQ: number[] = [];
        const monthQ: number[] = [];
        let points = 0;
        for (let i = 0; i < queries; i++) {
          const device = `meter-${i % meters}`;
          const day = T0 + (i % 31) * DAY;
          let a = performance.now();
          points += (await store.query({ device, metric: 'power_kw', from: day, to: day + DAY, stepMs: MIN, agg: 'avg' })).length;
          dayQ.push(performance.now() - a);
          a = performance.now();
          points += (await store.query({ device, metric: 'power_kw', from: T0, to: T0 + 31 * DAY, stepMs: HOUR, agg: 'avg' })).length;
          monthQ.push(performance.now() - a);
        }
        if (points !== queries * (1440 + 744)) throw new Error(`${s.name}: ${points} points answered, expected ${queries * (1440 + 744)}`);
        const d = summarize(dayQ);
        const mo = summarize(monthQ);
        base ??= { rate, day: d.p50, month: mo.p50 };
        const vs = (x: number, b: number) => (s === stores[0] ? '' : ` (${(x / b).toFixed(2)}x)`);
        table.push([s.name, `${fmt(rate, 0)}${vs(rate, base.rate)}`, fmt(summarize(lat).p50, 1), `${fmt(d.p50, 1)}${vs(d.p50, base.day)} / ${fmt(d.p99, 1)}`, `${fmt(mo.p50, 1)}${vs(mo.p50, base.month)} / ${fmt(mo.p99, 1)}`]);
      } finally {
        await store.close();
      }
    }
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)) + 2);
    for (const r of table) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join(''));
    console.log(`${fmt(rows.length, 0)} rows per store; ${queries} queries of each kind (ratios against DuckDB in the same run)`);
    console.log(`load after: ${uptime()}`);
  } finally {
    await Promise.all([influxd?.stop(), victoria?.stop(), victoriaFlush?.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}
