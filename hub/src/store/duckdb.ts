import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/**
 * Opens an embedded DuckDB file with a memory cap. DuckDB's own default is 80 % of the machine's RAM per
 * instance, and the hub keeps two (telemetry, energy rollups) beside SQLite and the broker, so each gets a
 * bounded share instead; WARDEN_DUCKDB_MEMORY_LIMIT (e.g. 2GB) overrides it. Spilling beyond the cap goes
 * to DuckDB's temp directory next to the file, so big queries slow down rather than fail.
 */
export function openDuckDb(file: string, env: NodeJS.ProcessEnv = process.env): Promise<DuckDBInstance> {
  return DuckDBInstance.create(file, { memory_limit: env.WARDEN_DUCKDB_MEMORY_LIMIT || '1GB' });
}

/**
 * Copies the database a connection is attached to into a new DuckDB file, as of one transaction (the writer may
 * keep appending meanwhile): ATTACH the target, COPY FROM DATABASE, DETACH. Used by `warden backup` on a running hub.
 */
export async function copyDuckDb(conn: DuckDBConnection, target: string): Promise<void> {
  const name = String((await conn.runAndReadAll('SELECT current_database()')).getRows()[0]?.[0]);
  const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
  await conn.run(`ATTACH '${target.replaceAll("'", "''")}' AS warden_backup`);
  try {
    await conn.run(`COPY FROM DATABASE ${quote(name)} TO warden_backup`);
  } finally {
    await conn.run('DETACH warden_backup');
  }
}
