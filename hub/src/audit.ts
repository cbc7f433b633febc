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
      // Prefixes as a JSON array, so one statement serves any number of them; substr, not LIKE, because `_` is an action character.
      byPrefix: db.prepare<[number, string, number], { id: number; ts: number; actor: string; action: string; target: string | null; detail: string }>(
        'SELECT id, ts, actor, action, target, detail FROM audit WHERE id < ? AND EXISTS (SELECT 1 FROM json_each(?) p WHERE substr(audit.action, 1, length(p.value)) = p.value) ORDER BY id DESC LIMIT ?',
      ),
    };
  }

  record(actor: string, action: string, target: string | null, detail: Record<string, unknown> = {}, now = Date.now()): void {
    this.q.insert.run(now, actor, action, target, JSON.stringify(detail));
  }

  /** Newest first; with `actionPrefixes`, only entries whose action starts with one of them (none: nothing). */
  list(limit: number, before = Number.MAX_SAFE_INTEGER, actionPrefixes?: readonly string[]): AuditEntry[] {
    const rows = actionPrefixes === undefined ? this.q.page.all(before, limit) : this.q.byPrefix.all(before, JSON.stringify(actionPrefixes), limit);
    return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }
}
