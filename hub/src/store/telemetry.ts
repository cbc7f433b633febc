export type TelemetryAgg = 'avg' | 'min' | 'max' | 'last' | 'sum';
export const TELEMETRY_AGGS: readonly TelemetryAgg[] = ['avg', 'min', 'max', 'last', 'sum'];

export interface TelemetryRow {
  /** Source time, ms epoch. */
  ts: number;
  device: string;
  metric: string;
  value: number;
}

export interface TelemetryQuery {
  device: string;
  metric: string;
  /** Inclusive, ms epoch. */
  from: number;
  /** Exclusive, ms epoch. */
  to: number;
  /** Bucket width; buckets are aligned to multiples of it since the epoch. */
  stepMs: number;
  agg: TelemetryAgg;
}

/**
 * Where telemetry lives. DuckDB is the embedded default; a server-based time-series database (InfluxDB, ...)
 * is a second implementation of this interface.
 */
export interface TelemetryStore {
  /** Resolves once the rows are durable. */
  append(rows: readonly TelemetryRow[]): Promise<void>;
  /** One [bucketStartMs, value] per non-empty bucket, oldest first. */
  query(q: TelemetryQuery): Promise<Array<[number, number]>>;
  /** Deletes rows with a source time before `before` (retention, hub/src/lifecycle); returns how many went. */
  prune?(before: number): Promise<number>;
  /** Writes a consistent copy into a new file while the hub runs (`warden backup`, hub/src/lifecycle/backup.ts). */
  backupTo?(file: string): Promise<void>;
  close(): Promise<void>;
}
