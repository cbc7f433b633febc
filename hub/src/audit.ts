import type { StateDb } from './store/state-db.ts';

export interface AuditEntry {
  id: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}

/** Who changed what, when: every operator action that changes something, and every login attempt. */
export class AuditLog {
  private readonly q;
  constructor(db: StateDb) {
    this.q = {
      insert: db.prepare('INSERT INTO audit (ts, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)'),
      page: db.prepare<[number, number], { id: number; ts: number; actor: string; action: string; target: string | null; detail: string }>(
        'SELECT id, ts, actor, action, target, detail FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?',
      ),
    };
  }

  record(actor: string, action: string, target: string | null, detail: Record<string, unknown> = {}, now = Date.now()): void {
    this.q.insert.run(now, actor, action, target, JSON.stringify(detail));
  }

  /** Newest first. */
  list(limit: number, before = Number.MAX_SAFE_INTEGER): AuditEntry[] {
    return this.q.page.all(before, limit).map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }
}
