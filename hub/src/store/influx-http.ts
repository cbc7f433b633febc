import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { TelemetryAgg, TelemetryQuery, TelemetryRow } from './telemetry.ts';

const gzip = promisify(gzipCb);

/*
 * What the two server stores (InfluxDB 1.x, VictoriaMetrics) share: the InfluxDB line protocol they both accept on
 * /write, HTTP with a timeout and basic auth over Node's own fetch (undici), errors that say what failed, and counters.
 */

// ---- line protocol (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/) ----

/** Measurement: commas and spaces are escaped with a backslash. */
export function escapeMeasurement(s: string): string {
  return s.replace(/[, ]/g, (c) => `\\${c}`);
}

/** Tag keys, tag values and field keys: commas, equals signs and spaces are escaped with a backslash. */
export function escapeKey(s: string): string {
  return s.replace(/[,= ]/g, (c) => `\\${c}`);
}

/** A string field value, in double quotes: double quotes and backslashes are escaped. */
export function quoteFieldString(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * Why a name cannot be written as a tag value, or null. The line protocol has no escape for a newline, drops an empty
 * tag, and reads a trailing backslash as an escape of the separator after it.
 */
export function tagProblem(s: string): string | null {
  if (s.length === 0) return 'is empty';
  if (/[\r\n]/.test(s)) return 'contains a line break';
  if (s.endsWith('\\')) return 'ends with a backslash';
  return null;
}

/** Lines `<measurement>,device=<d>,metric=<m> value=<v> <ms>`; throws (nothing written) naming the first row it cannot encode. */
export function encodeRows(measurement: string, rows: readonly TelemetryRow[]): string {
  const m = escapeMeasurement(measurement);
  const lines: string[] = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const bad = tagProblem(r.device) ? `device ${JSON.stringify(r.device)} ${tagProblem(r.device)}` : tagProblem(r.metric) ? `metric ${JSON.stringify(r.metric)} ${tagProblem(r.metric)}` : null;
    if (bad) throw new TelemetryStoreError('refused', `row ${i}: ${bad}: it cannot be written in the line protocol`);
    if (!Number.isFinite(r.value)) throw new TelemetryStoreError('refused', `row ${i}: value ${String(r.value)} of ${r.device}/${r.metric} is not a finite number`);
    if (!Number.isSafeInteger(r.ts)) throw new TelemetryStoreError('refused', `row ${i}: timestamp ${String(r.ts)} is not an integer number of ms`);
    // A float field always: `1` would make an integer field, and the field's type is fixed by its first write.
    const s = String(r.value);
    const v = /[.e]/.test(s) ? s : `${s}.0`;
    lines[i] = `${m},device=${escapeKey(r.device)},metric=${escapeKey(r.metric)} value=${v} ${r.ts}`;
  }
  return lines.join('\n');
}

// ---- aggregation in process (VictoriaMetrics reads raw samples) ----

/** The DuckDB store's semantics: bucket = floor(ts / step) * step; from inclusive, to exclusive; oldest first. */
export function aggregate(q: TelemetryQuery, timestamps: ArrayLike<number>, values: ArrayLike<number>, into?: Map<number, Acc>): Map<number, Acc> {
  const buckets = into ?? new Map<number, Acc>();
  for (let i = 0; i < timestamps.length; i++) {
    const ts = timestamps[i]!;
    if (ts < q.from || ts >= q.to) continue;
    const v = values[i]!;
    const b = Math.floor(ts / q.stepMs) * q.stepMs;
    const a = buckets.get(b);
    if (!a) buckets.set(b, { n: 1, sum: v, min: v, max: v, lastTs: ts, last: v });
    else {
      a.n++;
      a.sum += v;
      if (v < a.min) a.min = v;
      if (v > a.max) a.max = v;
      if (ts >= a.lastTs) {
        a.lastTs = ts;
        a.last = v;
      }
    }
  }
  return buckets;
}

export interface Acc {
  n: number;
  sum: number;
  min: number;
  max: number;
  lastTs: number;
  last: number;
}

export function finish(buckets: Map<number, Acc>, agg: TelemetryAgg): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [b, a] of buckets) out.push([b, agg === 'avg' ? a.sum / a.n : agg === 'sum' ? a.sum : agg === 'min' ? a.min : agg === 'max' ? a.max : a.last]);
  return out.sort((x, y) => x[0] - y[0]);
}

// ---- errors, HTTP, counters ----

export type FailureKind = 'unreachable' | 'timeout' | 'auth' | 'refused' | 'server';

/** What each failure means to someone reading telemetry through the REST API (no server address, no credentials). */
export const TELEMETRY_FAILURE: Record<FailureKind, string> = {
  unreachable: 'the telemetry server cannot be reached',
  timeout: 'the telemetry server did not answer in time',
  auth: "the telemetry server refused the hub's credentials",
  refused: 'the telemetry server refused the request',
  server: 'the telemetry server failed',
};

/** An error of a server telemetry store; `kind` is the counter's reason label. */
export class TelemetryStoreError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TelemetryStoreError';
  }
}

export interface ServerStoreMetrics {
  ops: Counter<'backend' | 'op' | 'result'>;
  rows: Counter<'backend'>;
  seconds: Histogram<'backend' | 'op'>;
}

const METRICS = new WeakMap<Registry, ServerStoreMetrics>();

/** warden_hub_telemetry_* on the hub's registry (once per registry; every label set present from 0). */
export function serverStoreMetrics(registry: Registry | undefined, backend: string): ServerStoreMetrics | undefined {
  if (!registry) return undefined;
  let m = METRICS.get(registry);
  if (!m) {
    const registers = [registry];
    m = {
      ops: new Counter({
        name: 'warden_hub_telemetry_requests_total',
        help: 'Requests of the telemetry store to its server, by backend, operation (write, query, prune, probe) and result (ok or the failure: unreachable, timeout, auth, refused, server)',
        labelNames: ['backend', 'op', 'result'] as const,
        registers,
      }),
      rows: new Counter({ name: 'warden_hub_telemetry_rows_written_total', help: 'Telemetry rows the server acknowledged, by backend', labelNames: ['backend'] as const, registers }),
      seconds: new Histogram({
        name: 'warden_hub_telemetry_request_seconds',
        help: 'Telemetry store request time, by backend and operation',
        labelNames: ['backend', 'op'] as const,
        buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
        registers,
      }),
    };
    METRICS.set(registry, m);
  }
  for (const op of ['write', 'query']) for (const result of ['ok', 'unreachable', 'timeout', 'auth', 'refused', 'server']) m.ops.inc({ backend, op, result }, 0);
  m.rows.inc({ backend }, 0);
  return m;
}

export interface HttpOptions {
  /** Base URL without a trailing slash. */
  url: string;
  /** e.g. 'InfluxDB', for messages. */
  server: string;
  backend: string;
  username?: string;
  password?: string;
  timeoutMs: number;
  gzip: boolean;
  metrics?: ServerStoreMetrics;
}

/** How a server store reaches its server (InfluxOptions and VictoriaOptions extend it). */
export interface ServerOptions {
  url: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
  gzip?: boolean;
  registry?: Registry;
}

/** A server store's HTTP client and its counters (on `o.registry`, registered once per registry). */
export function serverClient(o: ServerOptions, server: string, backend: string): { http: ServerHttp; metrics: ServerStoreMetrics | undefined } {
  const metrics = serverStoreMetrics(o.registry, backend);
  const http = new ServerHttp({
    url: o.url,
    server,
    backend,
    timeoutMs: o.timeoutMs ?? 10_000,
    gzip: o.gzip ?? false,
    ...(o.username !== undefined ? { username: o.username, password: o.password ?? '' } : {}),
    ...(metrics ? { metrics } : {}),
  });
  return { http, metrics };
}

export class ServerHttp {
  private readonly auth: string | undefined;
  private readonly base: string;

  constructor(readonly o: HttpOptions) {
    this.base = o.url.replace(/\/+$/, '');
    this.auth = o.username !== undefined ? `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}` : undefined;
  }

  /**
   * One request with the timeout; resolves with the body of a 2xx answer, rejects with a TelemetryStoreError naming
   * the server, what was asked and why it failed. Counted by op and result.
   */
  async request(op: string, path: string, init: { method: 'GET' | 'POST'; body?: string; form?: URLSearchParams; compress?: boolean }): Promise<string> {
    const t0 = performance.now();
    const what = `${this.o.server} ${op} (${init.method} ${this.base}${path.split('?')[0]})`;
    try {
      const headers: Record<string, string> = {};
      if (this.auth) headers.authorization = this.auth;
      let body: string | Uint8Array | undefined = init.body;
      if (init.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = init.form.toString();
      } else if (body !== undefined) {
        headers['content-type'] = 'text/plain; charset=utf-8';
        if (init.compress && this.o.gzip) {
          body = new Uint8Array(await gzip(body));
          headers['content-encoding'] = 'gzip';
        }
      }
      let res: Response;
      try {
        res = await fetch(`${this.base}${path}`, { method: init.method, headers, body: body as BodyInit | undefined, signal: AbortSignal.timeout(this.o.timeoutMs) });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string; message?: string } };
        if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new TelemetryStoreError('timeout', `${what}: no answer within ${this.o.timeoutMs} ms (telemetry.timeoutMs)`, { cause: err });
        throw new TelemetryStoreError('unreachable', `${what}: server unreachable (${e.cause?.code ?? e.cause?.message ?? e.message})`, { cause: err });
      }
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new TelemetryStoreError('timeout', `${what}: the answer did not complete within ${this.o.timeoutMs} ms`, { cause: err });
        throw new TelemetryStoreError('unreachable', `${what}: the connection broke while reading the answer (${e.message})`, { cause: err });
      }
      if (res.ok) {
        this.count(op, 'ok', t0);
        return text;
      }
      const detail = text.trim().slice(0, 500) || res.statusText;
      if (res.status === 401 || res.status === 403) {
        throw new TelemetryStoreError(
          'auth',
          `${what}: ${res.status} ${detail}: ${this.o.username === undefined ? 'the server requires credentials (telemetry.username / password)' : `the server refused user ${JSON.stringify(this.o.username)}: check telemetry.username and password, and the user's privileges`}`,
        );
      }
      if (res.status >= 500) throw new TelemetryStoreError('server', `${what}: server error ${res.status}: ${detail}`);
      throw new TelemetryStoreError('refused', `${what}: refused with ${res.status}: ${detail}`);
    } catch (err) {
      const kind = err instanceof TelemetryStoreError ? err.kind : 'server';
      this.count(op, kind, t0);
      throw err;
    }
  }

  private count(op: string, result: string, t0: number): void {
    const m = this.o.metrics;
    if (!m) return;
    m.ops.inc({ backend: this.o.backend, op, result });
    m.seconds.observe({ backend: this.o.backend, op }, (performance.now() - t0) / 1000);
  }
}

/** Largest write body sent in one request; a larger append is split (both servers refuse bodies of 25-32 MB by default). */
export const MAX_WRITE_BYTES = 16 * 1024 * 1024;

/** Splits encoded lines into bodies of at most MAX_WRITE_BYTES (almost always one). */
export function bodies(lines: string): string[] {
  if (lines.length <= MAX_WRITE_BYTES / 4 || Buffer.byteLength(lines) <= MAX_WRITE_BYTES) return [lines];
  const out: string[] = [];
  let start = 0;
  while (start < lines.length) {
    let end = Math.min(lines.length, start + MAX_WRITE_BYTES / 4);
    if (end < lines.length) {
      const nl = lines.lastIndexOf('\n', end);
      end = nl > start ? nl : end;
    }
    out.push(lines.slice(start, end));
    start = end + (lines[end] === '\n' ? 1 : 0);
  }
  return out;
}
