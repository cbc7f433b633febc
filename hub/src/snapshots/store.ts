import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newId, type Snapshot, type SnapshotCause } from '@warden/contract';
import type { StateDb } from '../store/state-db.ts';

/** Where snapshot files live: `<dataDir>/snapshots/<id>.jpg` (the lifecycle job prunes this folder by file time). */
export const snapshotDir = (dataDir: string): string => join(dataDir, 'snapshots');

interface Row {
  id: string;
  camera: string;
  ts: number;
  cause: SnapshotCause;
  alarm_id: string | null;
  event_id: string | null;
  bytes: number;
}

const toSnapshot = (r: Row): Snapshot => ({ id: r.id, camera: r.camera, ts: r.ts, cause: r.cause, alarmId: r.alarm_id, eventId: r.event_id, bytes: r.bytes });

/**
 * Snapshots: the JPEG as a file (its mtime set to the hub-clock time it was taken, so the lifecycle job's
 * `retention.snapshots` applies on the hub's clock), the index (camera, time, alarm or face event) in state.db.
 * A row whose file the retention job removed is dropped when next read.
 */
export class SnapshotStore {
  readonly dir: string;
  constructor(
    private readonly db: StateDb,
    dataDir: string,
  ) {
    this.dir = snapshotDir(dataDir);
    db.exec(`CREATE TABLE IF NOT EXISTS snapshots (
      id TEXT PRIMARY KEY,
      camera TEXT NOT NULL,
      ts INTEGER NOT NULL,
      cause TEXT NOT NULL CHECK (cause IN ('alarm', 'face')),
      alarm_id TEXT,
      event_id TEXT,
      bytes INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS snapshots_alarm ON snapshots (alarm_id) WHERE alarm_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS snapshots_event ON snapshots (event_id) WHERE event_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS snapshots_camera_ts ON snapshots (camera, ts);`);
  }

  private file(id: string): string {
    return join(this.dir, `${id}.jpg`);
  }

  add(s: { camera: string; ts: number; cause: SnapshotCause; alarmId?: string; eventId?: string; jpeg: Buffer }): Snapshot {
    const id = newId(s.ts);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(id);
    writeFileSync(file, s.jpeg, { mode: 0o600 });
    utimesSync(file, s.ts / 1000, s.ts / 1000);
    const row: Row = { id, camera: s.camera, ts: s.ts, cause: s.cause, alarm_id: s.alarmId ?? null, event_id: s.eventId ?? null, bytes: s.jpeg.length };
    this.db.prepare('INSERT INTO snapshots (id, camera, ts, cause, alarm_id, event_id, bytes) VALUES (@id, @camera, @ts, @cause, @alarm_id, @event_id, @bytes)').run(row);
    return toSnapshot(row);
  }

  get(id: string): Snapshot | undefined {
    const r = this.db.prepare('SELECT * FROM snapshots WHERE id = ?').get(id) as Row | undefined;
    if (!r) return undefined;
    if (!existsSync(this.file(id))) return void this.drop(id);
    return toSnapshot(r);
  }

  jpeg(id: string): Buffer | undefined {
    try {
      return readFileSync(this.file(id));
    } catch {
      return undefined;
    }
  }

  list(q: { alarm?: string; event?: string; camera?: string; limit: number }): Snapshot[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.alarm !== undefined) (where.push('alarm_id = ?'), args.push(q.alarm));
    if (q.event !== undefined) (where.push('event_id = ?'), args.push(q.event));
    if (q.camera !== undefined) (where.push('camera = ?'), args.push(q.camera));
    const rows = this.db.prepare(`SELECT * FROM snapshots ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, id DESC LIMIT ?`).all(...args, q.limit) as Row[];
    const out: Snapshot[] = [];
    for (const r of rows) {
      if (existsSync(this.file(r.id))) out.push(toSnapshot(r));
      else this.drop(r.id);
    }
    return out;
  }

  /** Index rows older than `before` (their files are the lifecycle job's); returns how many. */
  pruneRows(before: number): number {
    return this.db.prepare('DELETE FROM snapshots WHERE ts < ?').run(before).changes;
  }

  private drop(id: string): void {
    this.db.prepare('DELETE FROM snapshots WHERE id = ?').run(id);
    rmSync(this.file(id), { force: true });
  }
}
