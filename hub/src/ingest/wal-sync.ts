import { open, type FileHandle } from 'node:fs/promises';
import type { StateDb } from '../store/state-db.ts';

/**
 * Ingest commits without the fsync on the event loop. The state database runs `synchronous = FULL`: every COMMIT
 * fsyncs the WAL on the main thread, and measured under the overload bench that fsync was most of every storage
 * turn (CPU profile: ~80 % of the time under `storeLocked` was the COMMIT statement itself, on a shared disk 10 to
 * 100+ ms at a time: the hub's event-loop stalls). An ingest commit runs with `synchronous = NORMAL` instead (in WAL
 * mode: durable against a process crash, the WAL not yet fsynced), and before the gateway is acknowledged the WAL
 * file is fdatasynced on libuv's thread pool (`sync()`), which makes it as durable as a FULL commit: an ack still
 * means "survives power loss". Commits that land while an fsync runs share the next one (group commit). Other
 * writers (REST, alarm timers, audit) keep FULL: the setting is switched only around an ingest transaction, which
 * is synchronous, so nothing else commits in between.
 */
export class WalSync {
  private readonly wal: string | undefined;
  private readonly full: boolean;
  private readonly level: number;
  private file: Promise<FileHandle> | undefined;
  private current: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /** fsyncs run (each covers every commit before it started). */
  syncs = 0;

  constructor(private readonly db: StateDb) {
    const level = db.pragma('synchronous', { simple: true }) as number;
    // FULL (2) or EXTRA (3) in WAL mode on a file: otherwise commits are left as they are.
    const walMode = String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
    this.full = !db.memory && walMode && level >= 2;
    this.wal = this.full ? `${db.name}-wal` : undefined;
    this.level = level;
  }

  /** Runs a synchronous transaction body with the fsync left to `sync()` (no other commit can interleave). */
  commit<T>(fn: () => T): T {
    if (!this.full) return this.db.transaction(fn)();
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.db.transaction(fn)();
    } finally {
      this.db.pragma(`synchronous = ${this.level}`);
    }
  }

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    if (!this.wal) return Promise.resolve();
    if (this.next) return this.next;
    // An fsync already running may have started before this commit: one more after it, shared by every caller meanwhile.
    if (this.current) {
      const after = this.current.catch(() => {});
      this.next = after.then(() => {
        this.next = undefined;
        return this.start();
      });
      return this.next;
    }
    return this.start();
  }

  private start(): Promise<void> {
    const p = (async () => {
      this.syncs++;
      const fh = await (this.file ??= open(this.wal!, 'r'));
      await fh.datasync();
    })();
    this.current = p;
    void p.then(
      () => void (this.current === p && (this.current = undefined)),
      () => {
        if (this.current === p) this.current = undefined;
        // Reopened on the next sync (e.g. the WAL file was not there yet).
        this.file = undefined;
      },
    );
    return p;
  }

  async close(): Promise<void> {
    await this.current?.catch(() => {});
    await this.next?.catch(() => {});
    const f = this.file;
    this.file = undefined;
    if (f) await (await f).close().catch(() => {});
  }
}
