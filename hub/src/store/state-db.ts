import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.ts';

export type StateDb = Database.Database;

/**
 * Opens (creating if needed) the hub's SQLite state and brings its schema up to date.
 * WAL lets REST reads run beside ingest writes; synchronous=FULL makes a commit survive power loss,
 * which is what an ack to a gateway promises.
 */
export function openStateDb(file: string): StateDb {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: StateDb): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`state database is at schema ${current}, newer than this hub (${MIGRATIONS.length}); upgrade the hub`);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
