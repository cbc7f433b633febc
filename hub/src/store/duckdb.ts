import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Opens an embedded DuckDB file with a memory cap. DuckDB's own default is 80 % of the machine's RAM per
 * instance, and the hub keeps two (telemetry, energy rollups) beside SQLite and the broker, so each gets a
 * bounded share instead; WARDEN_DUCKDB_MEMORY_LIMIT (e.g. 2GB) overrides it. Spilling beyond the cap goes
 * to DuckDB's temp directory next to the file, so big queries slow down rather than fail.
 */
export function openDuckDb(file: string, env: NodeJS.ProcessEnv = process.env): Promise<DuckDBInstance> {
  return DuckDBInstance.create(file, { memory_limit: env.WARDEN_DUCKDB_MEMORY_LIMIT || '1GB' });
}
