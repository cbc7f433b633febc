import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { DuckDbTelemetryStore } from './duckdb-telemetry.ts';
import { InfluxDbTelemetryStore } from './influx-telemetry.ts';
import type { TelemetryStore } from './telemetry.ts';
import { telemetryPassword, writeTelemetryMarker, type TelemetryConfig } from './telemetry-config.ts';
import { VictoriaMetricsTelemetryStore } from './victoria-telemetry.ts';

/**
 * Opens the telemetry store `telemetry.backend` names: the embedded `<dataDir>/telemetry.duckdb` (default), or an
 * InfluxDB / VictoriaMetrics server (checked at open: wrong credentials refuse the hub's start). Leaves the
 * data dir's telemetry marker saying where the telemetry is, for `warden backup`.
 */
export async function openTelemetryStore(t: TelemetryConfig, dataDir: string, deps: { registry?: Registry; log?: Logger; env?: NodeJS.ProcessEnv } = {}): Promise<TelemetryStore> {
  writeTelemetryMarker(dataDir, t);
  if (t.backend === 'duckdb') return DuckDbTelemetryStore.open(join(dataDir, 'telemetry.duckdb'));
  const password = telemetryPassword(t, deps.env);
  const common = {
    url: t.url!,
    measurement: t.measurement,
    timeoutMs: t.timeoutMs,
    gzip: t.gzip,
    ...(t.auth === 'basic' && t.username !== undefined ? { username: t.username, password: password ?? '' } : {}),
    ...(deps.registry ? { registry: deps.registry } : {}),
    ...(deps.log ? { log: deps.log } : {}),
  };
  if (t.backend === 'influxdb') return InfluxDbTelemetryStore.open({ ...common, database: t.database, ...(t.retentionPolicy ? { retentionPolicy: t.retentionPolicy } : {}) });
  return VictoriaMetricsTelemetryStore.open({ ...common, flushEachAppend: t.flushEachAppend });
}
