export { startHub, type Hub, type NewUser } from './hub.ts';
export { ConfigError, DEFAULT_DASHBOARD_DIR, HubConfigSchema, ROLES, durationMs, loadHubConfig, parseHubConfig, type HubConfig, type Role } from './config.ts';
export { runHub } from './cli.ts';
export type { TelemetryStore, TelemetryRow, TelemetryQuery, TelemetryAgg } from './store/telemetry.ts';
export { DuckDbTelemetryStore } from './store/duckdb-telemetry.ts';
export type { LiveMessages } from './live/bus.ts';
export { ERRORS, type ErrorCode } from './errors.ts';
