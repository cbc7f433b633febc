import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import { literalUnion } from '@warden/contract';

export const TELEMETRY_BACKENDS = ['duckdb', 'influxdb', 'victoriametrics'] as const;
export type TelemetryBackend = (typeof TELEMETRY_BACKENDS)[number];

/**
 * `telemetry` in hub.yaml: where the time series live. `duckdb` (default) is the embedded `<dataDir>/telemetry.duckdb`;
 * `influxdb` (1.x HTTP API: line protocol on /write, InfluxQL on /query) and `victoriametrics` (line protocol on
 * /write, /api/v1/export) are servers the hub talks to over HTTP (hub README, "Telemetry backends").
 */
export const TelemetryConfigSchema = Type.Object(
  {
    backend: literalUnion(TELEMETRY_BACKENDS, { default: 'duckdb', description: 'duckdb (embedded, default), influxdb (1.x API) or victoriametrics' }),
    url: Type.Optional(Type.String({ minLength: 1, description: 'server base URL, e.g. http://127.0.0.1:8086 (influxdb) or http://127.0.0.1:8428 (victoriametrics)' })),
    database: Type.String({ minLength: 1, maxLength: 200, default: 'warden', description: 'influxdb: the database (created at start when missing and the user may)' }),
    retentionPolicy: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "influxdb: write into this retention policy (default: the database's default policy)" })),
    measurement: Type.String({ minLength: 1, maxLength: 200, default: 'telemetry', description: 'measurement name (VictoriaMetrics stores the series as <measurement>_value)' }),
    auth: literalUnion(['basic', 'none'] as const, { default: 'basic', description: 'basic: username + password (required); none: no credentials, allowed only for a loopback url' }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'the password itself (keep hub.yaml readable by the hub account only)' })),
    passwordFile: Type.Optional(Type.String({ minLength: 1, description: 'a file holding the password (trailing newline ignored); relative to the config file' })),
    passwordEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'an environment variable holding the password' })),
    timeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000, description: 'one HTTP request (write or query); a write that times out is not acknowledged to the gateway' }),
    gzip: Type.Boolean({ default: false, description: 'gzip write bodies (Content-Encoding: gzip)' }),
    flushEachAppend: Type.Boolean({
      default: false,
      description: "victoriametrics: call /internal/force_flush after each write, so an acknowledged batch is on the server's disk (VictoriaMetrics otherwise keeps up to ~1 s in memory)",
    }),
    allowInsecure: Type.Optional(Type.Boolean({ description: 'UNSAFE: plain http:// to a non-loopback server (credentials and readings in clear)' })),
  },
  { additionalProperties: false, default: {}, description: 'where telemetry time series are stored' },
);

export type TelemetryConfig = Static<typeof TelemetryConfigSchema>;

function loopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Checks across keys (paths resolved against `base`); every problem as `/telemetry/...: what to do`. */
export function checkTelemetryConfig(t: TelemetryConfig, base: string): string[] {
  const errors: string[] = [];
  if (t.passwordFile !== undefined && !isAbsolute(t.passwordFile)) t.passwordFile = resolve(base, t.passwordFile);
  if (t.backend === 'duckdb') {
    for (const k of ['url', 'username', 'password', 'passwordFile', 'passwordEnv', 'retentionPolicy'] as const) {
      if (t[k] !== undefined) errors.push(`/telemetry/${k}: only for a server backend (telemetry.backend is duckdb, the embedded store)`);
    }
    return errors;
  }
  const name = t.backend === 'influxdb' ? 'InfluxDB' : 'VictoriaMetrics';
  if (t.url === undefined) return [`/telemetry/url: telemetry.backend ${t.backend} needs the ${name} server's URL, e.g. ${t.backend === 'influxdb' ? 'http://127.0.0.1:8086' : 'http://127.0.0.1:8428'}`];
  let u: URL;
  try {
    u = new URL(t.url);
  } catch {
    return [`/telemetry/url: ${JSON.stringify(t.url)} is not a URL`];
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') errors.push(`/telemetry/url: must be http:// or https://, not ${u.protocol}`);
  if (u.username || u.password) errors.push('/telemetry/url: put credentials in telemetry.username and telemetry.password (or passwordFile / passwordEnv), not in the URL');
  const local = loopback(u.hostname);
  if (u.protocol === 'http:' && !local && !t.allowInsecure) {
    errors.push(`/telemetry/url: plain http to ${u.hostname}, a non-loopback server, would carry credentials and readings in clear: use https://, or set telemetry.allowInsecure: true to accept that risk`);
  }
  const sources = [t.password, t.passwordFile, t.passwordEnv].filter((x) => x !== undefined).length;
  if (sources > 1) errors.push('/telemetry: give one of password, passwordFile, passwordEnv');
  if (t.auth === 'none') {
    if (!local) errors.push(`/telemetry/auth: none is allowed only for a loopback server (127.0.0.1, ::1, localhost); ${u.hostname} needs username and password`);
    if (t.username !== undefined || sources > 0) errors.push('/telemetry/auth: none, but credentials are given: drop them or drop auth: none');
  } else {
    if (t.username === undefined || sources === 0) {
      errors.push(`/telemetry: the ${name} server at ${t.url} needs credentials: give telemetry.username and telemetry.password (or passwordFile / passwordEnv); for a server on loopback without authentication set telemetry.auth: none explicitly`);
    }
  }
  if (t.backend === 'victoriametrics' && t.retentionPolicy !== undefined) errors.push('/telemetry/retentionPolicy: influxdb only (VictoriaMetrics keeps data for its -retentionPeriod)');
  if (t.backend === 'influxdb' && t.flushEachAppend) errors.push('/telemetry/flushEachAppend: victoriametrics only (InfluxDB acknowledges a write once it is in its WAL)');
  return errors;
}

/** The password from the config, its file or its environment variable; undefined for auth none. Throws naming the source. */
export function telemetryPassword(t: TelemetryConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (t.password !== undefined) return t.password;
  if (t.passwordFile !== undefined) {
    try {
      return readFileSync(t.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`telemetry.passwordFile ${t.passwordFile}: ${(err as Error).message}`);
    }
  }
  if (t.passwordEnv !== undefined) {
    const v = env[t.passwordEnv];
    if (v === undefined || v === '') throw new Error(`telemetry.passwordEnv: environment variable ${t.passwordEnv} is not set`);
    return v;
  }
  return undefined;
}

/**
 * `<dataDir>/telemetry-backend.json` says where the telemetry is when it is not in the data dir: `warden backup`
 * copies it with the other files and puts its note into the manifest, so a backup never silently lacks telemetry.
 */
export const TELEMETRY_MARKER = 'telemetry-backend.json';

export interface TelemetryMarker {
  backend: Exclude<TelemetryBackend, 'duckdb'>;
  url: string;
  database?: string;
  measurement: string;
  note: string;
}

export function backupNote(t: { backend: TelemetryBackend; url?: string; database?: string }): string {
  if (t.backend === 'influxdb') {
    return `telemetry is NOT in this backup: it lives on the InfluxDB server ${t.url} (database ${t.database}); back it up with the server's own tools (influxd backup -portable -database ${t.database} <dir>)`;
  }
  return `telemetry is NOT in this backup: it lives on the VictoriaMetrics server ${t.url}; back it up with the server's own tools (vmbackup from an instant snapshot, /snapshot/create)`;
}

/** Writes (server backend) or removes (duckdb) the marker at hub start. */
export function writeTelemetryMarker(dataDir: string, t: TelemetryConfig): void {
  const file = join(dataDir, TELEMETRY_MARKER);
  if (t.backend === 'duckdb' || t.url === undefined) {
    if (existsSync(file)) rmSync(file);
    return;
  }
  const m: TelemetryMarker = {
    backend: t.backend,
    url: t.url,
    ...(t.backend === 'influxdb' ? { database: t.database } : {}),
    measurement: t.measurement,
    note: backupNote(t),
  };
  writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
}

export function readTelemetryMarker(dir: string): TelemetryMarker | undefined {
  const file = join(dir, TELEMETRY_MARKER);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TelemetryMarker;
  } catch {
    return undefined;
  }
}
