import type { Logger } from 'pino';
import { TelemetryStoreError, bodies, encodeRows, serverClient, type ServerHttp, type ServerOptions, type ServerStoreMetrics } from './influx-http.ts';
import type { TelemetryAgg, TelemetryQuery, TelemetryRow, TelemetryStore } from './telemetry.ts';

const AGG_INFLUXQL: Record<TelemetryAgg, string> = { avg: 'mean', min: 'min', max: 'max', last: 'last', sum: 'sum' };

/** InfluxQL identifier: double quotes, with `"` and `\` escaped. */
export function quoteIdent(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** InfluxQL string literal: single quotes, with `'` and `\` escaped. */
export function quoteString(s: string): string {
  return `'${s.replace(/['\\]/g, (c) => `\\${c}`)}'`;
}

export interface InfluxOptions extends ServerOptions {
  database: string;
  /** Write into this retention policy (default: the database's default). */
  retentionPolicy?: string;
  measurement?: string;
  log?: Logger;
}

interface InfluxResult {
  statement_id?: number;
  error?: string;
  series?: Array<{ columns: string[]; values: Array<[number, number | null]> }>;
}

/**
 * Telemetry on an InfluxDB 1.x server (1.6+; the v1 HTTP API, which InfluxDB 2.x also serves for compatibility).
 * One point per row: `<measurement>,device=<id>,metric=<name> value=<float> <ms>`, written with one
 * `POST /write?precision=ms` per append (split only beyond 16 MB); InfluxDB answers 204 once the points are in its
 * WAL (fsynced), so the hub acknowledges the batch only after that. Queries are InfluxQL
 * `GROUP BY time(<step>ms) fill(none)`: buckets aligned to the epoch, only non-empty ones, the same
 * [bucketStart, value] pairs as the DuckDB store. A point with the same device, metric and time as a stored one
 * replaces it (resends are idempotent; the DuckDB store would keep both).
 */
export class InfluxDbTelemetryStore implements TelemetryStore {
  private closed = false;
  private readonly http: ServerHttp;
  private readonly measurement: string;
  private readonly from: string;
  private readonly writePath: string;
  private readonly metrics: ServerStoreMetrics | undefined;

  private constructor(private readonly o: InfluxOptions) {
    this.measurement = o.measurement ?? 'telemetry';
    ({ http: this.http, metrics: this.metrics } = serverClient(o, 'InfluxDB', 'influxdb'));
    this.from = `${quoteIdent(o.database)}.${o.retentionPolicy ? quoteIdent(o.retentionPolicy) : ''}.${quoteIdent(this.measurement)}`;
    const p = new URLSearchParams({ db: o.database, precision: 'ms' });
    if (o.retentionPolicy) p.set('rp', o.retentionPolicy);
    this.writePath = `/write?${p.toString()}`;
  }

  /**
   * Checks the server at start: wrong credentials (or a user without access) refuse the start with the server's
   * answer; a missing database is created when the user may (else the error says to create it). An unreachable
   * server is only logged: appends fail (gateways keep their records) until it answers.
   */
  static async open(o: InfluxOptions): Promise<InfluxDbTelemetryStore> {
    const store = new InfluxDbTelemetryStore(o);
    try {
      await store.influxql(`SHOW RETENTION POLICIES ON ${quoteIdent(o.database)}`, 'probe');
    } catch (err) {
      if (!(err instanceof TelemetryStoreError)) throw err;
      if (err.kind === 'unreachable' || err.kind === 'timeout' || err.kind === 'server') {
        o.log?.warn({ err: err.message }, 'InfluxDB not answering at start: telemetry writes fail (and gateways keep their batches) until it does');
        return store;
      }
      if (/database not found/i.test(err.message)) {
        try {
          await store.influxql(`CREATE DATABASE ${quoteIdent(o.database)}`, 'probe');
          o.log?.info({ database: o.database }, 'InfluxDB database created');
          return store;
        } catch (err2) {
          throw new TelemetryStoreError('refused', `InfluxDB at ${o.url} has no database ${JSON.stringify(o.database)} and user ${JSON.stringify(o.username ?? '')} may not create it (${(err2 as Error).message}): CREATE DATABASE ${quoteIdent(o.database)} as an admin and GRANT ALL ON it to the hub's user`);
        }
      }
      throw err;
    }
    return store;
  }

  async append(rows: readonly TelemetryRow[]): Promise<void> {
    if (this.closed) throw new Error('telemetry store is closed');
    if (rows.length === 0) return;
    const lines = encodeRows(this.measurement, rows);
    for (const body of bodies(lines)) await this.http.request('write', this.writePath, { method: 'POST', body, compress: true });
    this.metrics?.rows.inc({ backend: 'influxdb' }, rows.length);
  }

  async query(q: TelemetryQuery): Promise<Array<[number, number]>> {
    if (this.closed) throw new Error('telemetry store is closed');
    if (!(q.stepMs >= 1) || !Number.isSafeInteger(q.stepMs)) throw new TelemetryStoreError('refused', `stepMs ${q.stepMs} must be a positive integer`);
    if (q.to <= q.from) return [];
    const sql =
      `SELECT ${AGG_INFLUXQL[q.agg]}("value") FROM ${this.from} ` +
      `WHERE "device" = ${quoteString(q.device)} AND "metric" = ${quoteString(q.metric)} AND time >= ${Math.trunc(q.from)}ms AND time < ${Math.trunc(q.to)}ms ` +
      `GROUP BY time(${q.stepMs}ms) fill(none)`;
    const results = await this.influxql(sql, 'query');
    const out: Array<[number, number]> = [];
    for (const r of results) for (const s of r.series ?? []) for (const [t, v] of s.values) if (v !== null) out.push([t, v]);
    // Chunks come in order; sorted anyway (a chunk boundary never splits a bucket).
    out.sort((a, b) => a[0] - b[0]);
    return out;
  }

  /**
   * Deletes points before `before` (`DELETE FROM <measurement> WHERE time < ...`; the user needs write access).
   * InfluxDB does not say how many went: the count is taken just before the delete (points written meanwhile with
   * a time that old would go uncounted). With a retention policy doing the pruning instead, set the hub's
   * `retention.telemetryRaw` beyond the policy's duration: this then finds nothing and says 0.
   */
  async prune(before: number): Promise<number> {
    if (this.closed) throw new Error('telemetry store is closed');
    const where = `WHERE time < ${Math.trunc(before)}ms`;
    const counted = await this.influxql(`SELECT count("value") FROM ${this.from} ${where}`, 'prune');
    let n = 0;
    for (const r of counted) for (const s of r.series ?? []) for (const [, v] of s.values) n += v ?? 0;
    if (n === 0) return 0;
    await this.influxql(`DELETE FROM ${quoteIdent(this.measurement)} ${where}`, 'prune');
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Runs InfluxQL (chunked answers merged); an error in any statement rejects. */
  private async influxql(q: string, op: string): Promise<InfluxResult[]> {
    const form = new URLSearchParams({ q, db: this.o.database, epoch: 'ms', chunked: 'true', chunk_size: '10000' });
    const text = await this.http.request(op, '/query', { method: 'POST', form });
    const results: InfluxResult[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let parsed: { results?: InfluxResult[]; error?: string };
      try {
        parsed = JSON.parse(line) as typeof parsed;
      } catch {
        throw new TelemetryStoreError('server', `InfluxDB ${op}: an answer that is not JSON: ${line.slice(0, 200)}`);
      }
      if (parsed.error) throw new TelemetryStoreError('refused', `InfluxDB ${op}: ${parsed.error}`);
      for (const r of parsed.results ?? []) {
        if (r.error) throw new TelemetryStoreError('refused', `InfluxDB ${op}: ${r.error} (${q.slice(0, 300)})`);
        results.push(r);
      }
    }
    return results;
  }
}
