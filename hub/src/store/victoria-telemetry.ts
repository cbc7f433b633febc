import type { Logger } from 'pino';
import { TelemetryStoreError, aggregate, bodies, encodeRows, finish, serverClient, type Acc, type ServerHttp, type ServerOptions, type ServerStoreMetrics } from './influx-http.ts';
import type { TelemetryQuery, TelemetryRow, TelemetryStore } from './telemetry.ts';

export interface VictoriaOptions extends ServerOptions {
  measurement?: string;
  /** After each write, /internal/force_flush: the batch is on the server's disk before append resolves. */
  flushEachAppend?: boolean;
  log?: Logger;
}

/** A MetricsQL string literal (Go-style double-quoted). */
function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * Telemetry on a VictoriaMetrics (single-node) server. Writes are the InfluxDB line protocol on `/write` (one request
 * per append), so a row becomes the series `<measurement>_value{device="…",metric="…"}`: VictoriaMetrics names an
 * Influx field `<measurement>_<field>` (or `<measurement>` alone under `-influxSkipSingleField`; the query matches
 * both). Queries read the raw samples of the one series with `/api/v1/export` and aggregate them here, exactly as
 * the DuckDB store does (half-open buckets aligned to the epoch, `from` inclusive, `to` exclusive, `last` = latest
 * timestamp). `/api/v1/query_range` was not used: its windows are left-open and right-closed `(t-step, t]`, it hides
 * the last `-search.latencyOffset` (30 s) and fills gaps by its lookbehind, so its buckets are not these.
 *
 * Durability: VictoriaMetrics answers a write once the rows are in its memory buffer and writes them to disk about
 * a second later; a crash in that second loses rows the hub has acknowledged, unless `flushEachAppend` makes every
 * append wait for `/internal/force_flush`. Rows also become visible to queries only after that flush.
 * Retention is the server's `-retentionPeriod`; `prune` deletes nothing (see there).
 */
export class VictoriaMetricsTelemetryStore implements TelemetryStore {
  private closed = false;
  private readonly http: ServerHttp;
  private readonly measurement: string;
  private readonly nameMatch: string;
  private readonly metrics: ServerStoreMetrics | undefined;
  private warnedPrune = false;

  private constructor(private readonly o: VictoriaOptions) {
    this.measurement = o.measurement ?? 'telemetry';
    ({ http: this.http, metrics: this.metrics } = serverClient(o, 'VictoriaMetrics', 'victoriametrics'));
    const re = this.measurement.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    this.nameMatch = `__name__=~${quote(`${re}(_value)?`)}`;
  }

  /** Checks credentials at start (wrong ones refuse the start); an unreachable server is only logged. */
  static async open(o: VictoriaOptions): Promise<VictoriaMetricsTelemetryStore> {
    const store = new VictoriaMetricsTelemetryStore(o);
    try {
      await store.http.request('probe', '/api/v1/status/buildinfo', { method: 'GET' });
    } catch (err) {
      if (!(err instanceof TelemetryStoreError)) throw err;
      if (err.kind === 'auth') throw err;
      o.log?.warn({ err: err.message }, 'VictoriaMetrics not answering at start: telemetry writes fail (and gateways keep their batches) until it does');
    }
    return store;
  }

  async append(rows: readonly TelemetryRow[]): Promise<void> {
    if (this.closed) throw new Error('telemetry store is closed');
    if (rows.length === 0) return;
    const lines = encodeRows(this.measurement, rows);
    for (const body of bodies(lines)) await this.http.request('write', '/write?precision=ms', { method: 'POST', body, compress: true });
    if (this.o.flushEachAppend) await this.http.request('flush', '/internal/force_flush', { method: 'GET' });
    this.metrics?.rows.inc({ backend: 'victoriametrics' }, rows.length);
  }

  async query(q: TelemetryQuery): Promise<Array<[number, number]>> {
    if (this.closed) throw new Error('telemetry store is closed');
    if (!(q.stepMs >= 1) || !Number.isSafeInteger(q.stepMs)) throw new TelemetryStoreError('refused', `stepMs ${q.stepMs} must be a positive integer`);
    if (q.to <= q.from) return [];
    const form = new URLSearchParams();
    form.set('match[]', `{${this.nameMatch},device=${quote(q.device)},metric=${quote(q.metric)}}`);
    // Seconds with a fraction (ms); the export's end is inclusive, hence to - 1 ms. Filtered again below.
    form.set('start', (Math.max(0, q.from) / 1000).toFixed(3));
    form.set('end', ((q.to - 1) / 1000).toFixed(3));
    const text = await this.http.request('query', '/api/v1/export', { method: 'POST', form });
    const buckets = new Map<number, Acc>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      let s: { timestamps?: number[]; values?: number[] };
      try {
        s = JSON.parse(line) as typeof s;
      } catch {
        throw new TelemetryStoreError('server', `VictoriaMetrics query: an export line that is not JSON: ${line.slice(0, 200)}`);
      }
      if (s.timestamps && s.values) aggregate(q, s.timestamps, s.values, buckets);
    }
    return finish(buckets, q.agg);
  }

  /**
   * Deletes nothing and says 0: VictoriaMetrics deletes whole series only (`/api/v1/admin/tsdb/delete_series`), not
   * rows before a time. Its retention is the server's `-retentionPeriod` (set it to the hub's
   * `retention.telemetryRaw`); rows it drops are not counted in the hub's metrics.
   */
  async prune(_before: number): Promise<number> {
    if (this.closed) throw new Error('telemetry store is closed');
    if (!this.warnedPrune) {
      this.warnedPrune = true;
      this.o.log?.info('telemetry retention is VictoriaMetrics\' -retentionPeriod: the hub prunes nothing there (retention.telemetryRaw does not apply)');
    }
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
