export { startHub, type Hub, type NewUser } from './hub.ts';
export { ConfigError, DEFAULT_DASHBOARD_DIR, HubConfigSchema, ROLES, durationMs, loadHubConfig, parseHubConfig, type HubConfig, type Role } from './config.ts';
export { runHub } from './cli.ts';
export type { TelemetryStore, TelemetryRow, TelemetryQuery, TelemetryAgg } from './store/telemetry.ts';
export { DuckDbTelemetryStore } from './store/duckdb-telemetry.ts';
export type { LiveMessages } from './live/bus.ts';
export { ALARM_TYPES, ALARM_TYPE_NAMES, PRIORITIES, type Alarm, type AlarmType, type Priority, type TimelineEntry, type AlarmRule } from './alarms/types.ts';
export type { LinkageMessage } from './alarms/linkage.ts';
export { ERRORS, type ErrorCode } from './errors.ts';
