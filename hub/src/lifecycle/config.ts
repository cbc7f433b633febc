import Type, { type Static } from 'typebox';

const Days = (def: number, min: number, description: string) =>
  Type.Integer({ minimum: min, maximum: 36_500, default: def, description: `${description}, in days` });

/**
 * `retention` in hub.yaml: how long each class of data is kept, and when the prune job and the disk check run.
 * The audit log's retention is `auth.auditRetentionDays` (at least 180 days, enforced by its schema); the prune job
 * applies it through AuditLog.retire, the one function allowed past the audit table's append-only triggers.
 */
export const RetentionConfigSchema = Type.Object(
  {
    events: Days(365, 1, 'device events (state.db `events`)'),
    alarms: Days(730, 1, 'resolved alarms and their timelines, counted from resolution; open alarms are never pruned'),
    telemetryRaw: Days(400, 1, 'raw telemetry readings (telemetry.duckdb)'),
    telemetryRollups: Days(1825, 1, 'energy quarter-hour rollups (energy.duckdb), when the energy module offers pruning'),
    deadLetters: Days(30, 1, 'refused input kept as dead letters (also capped by ingest.deadLetterLimit)'),
    snapshots: Days(30, 1, 'files in <dataDir>/snapshots, when that folder exists'),
    intervalMinutes: Type.Integer({ minimum: 1, maximum: 10_080, default: 60, description: 'the prune job runs this often (and once at start)' }),
    diskCheckSeconds: Type.Integer({ minimum: 5, maximum: 3600, default: 60, description: 'free space of the data dir is measured this often' }),
    minFreePercent: Type.Number({ minimum: 0, maximum: 90, default: 10, description: 'below this free share of the data dir file system a hub.disk_low alarm is raised' }),
    minFreeBytes: Type.Integer({ minimum: 0, default: 1_073_741_824, description: 'below this many free bytes a hub.disk_low alarm is raised (either limit)' }),
  },
  { additionalProperties: false, default: {}, description: 'data lifecycle: retention per data class, prune job, disk space alarm' },
);

export type RetentionConfig = Static<typeof RetentionConfigSchema>;
