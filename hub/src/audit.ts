import { createHash } from 'node:crypto';
import type { StateDb } from './store/state-db.ts';

export interface AuditEntry {
  id: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}

interface Row {
  id: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  detail: string;
  prev_hash: string | null;
  hash: string | null;
}

/** The chain's start (no previous row, nothing retired yet). */
export const GENESIS = '0'.repeat(64);

/** sha256 over the previous row's hash and this row's content, fields separated so none can bleed into another. */
export function rowHash(prev: string, r: { id: number; ts: number; actor: string; action: string; target: string | null; detail: string }): string {
  return createHash('sha256').update(JSON.stringify([prev, r.id, r.ts, r.actor, r.action, r.target, r.detail])).digest('hex');
}

export type VerifyResult = { ok: true; rows: number; lastId: number | null } | { ok: false; rows: number; brokenId: number; reason: string };

/**
 * Who changed what, when: every operator action that changes something, every login attempt, and reads of face
 * and person data. Append-only: each row stores the previous row's hash and its own (a hash chain); SQLite
 * triggers refuse UPDATE and DELETE except while the retention job holds the gate (migration 'trust').
 */
export class AuditLog {
  private readonly q;
  private lastHash: string | undefined;
  constructor(private readonly db: StateDb) {
    this.q = {
      insert: db.prepare('INSERT INTO audit (id, ts, actor, action, target, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      nextId: db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM audit'),
      last: db.prepare<[], { hash: string | null }>('SELECT hash FROM audit ORDER BY id DESC LIMIT 1'),
      anchor: db.prepare<[], { last_id: number; hash: string }>('SELECT last_id, hash FROM audit_anchor WHERE id = 1'),
      page: db.prepare<[number, number], Row>('SELECT id, ts, actor, action, target, detail, prev_hash, hash FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?'),
      // Prefixes as a JSON array, so one statement serves any number of them; substr, not LIKE, because `_` is an action character.
      byPrefix: db.prepare<[number, string, number], Row>(
        'SELECT id, ts, actor, action, target, detail, prev_hash, hash FROM audit WHERE id < ? AND EXISTS (SELECT 1 FROM json_each(?) p WHERE substr(audit.action, 1, length(p.value)) = p.value) ORDER BY id DESC LIMIT ?',
      ),
      range: db.prepare<[number, number], Row>('SELECT id, ts, actor, action, target, detail, prev_hash, hash FROM audit WHERE ts >= ? AND ts < ? ORDER BY id'),
      all: db.prepare<[], Row>('SELECT id, ts, actor, action, target, detail, prev_hash, hash FROM audit ORDER BY id'),
    };
  }

  private tip(): string {
    this.lastHash ??= this.q.last.get()?.hash ?? this.q.anchor.get()?.hash ?? GENESIS;
    return this.lastHash;
  }

  record(actor: string, action: string, target: string | null, detail: Record<string, unknown> = {}, now = Date.now()): void {
    this.db.transaction(() => {
      // Rows written before the chain existed have no hash: the chain starts after them.
      const prev = this.tip();
      const id = (this.q.nextId.get()?.id ?? this.q.anchor.get()?.last_id ?? 0) + 1;
      const row = { id, ts: now, actor, action, target, detail: JSON.stringify(detail) };
      const hash = rowHash(prev, row);
      this.q.insert.run(id, now, actor, action, target, row.detail, prev, hash);
      this.lastHash = hash;
    })();
  }

  /** Newest first; with `actionPrefixes`, only entries whose action starts with one of them (none: nothing). */
  list(limit: number, before = Number.MAX_SAFE_INTEGER, actionPrefixes?: readonly string[]): AuditEntry[] {
    const rows = actionPrefixes === undefined ? this.q.page.all(before, limit) : this.q.byPrefix.all(before, JSON.stringify(actionPrefixes), limit);
    return rows.map((r) => ({ id: r.id, ts: r.ts, actor: r.actor, action: r.action, target: r.target, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  }

  /** Rows with their chain, oldest first, for export. */
  *export(from = 0, to = Number.MAX_SAFE_INTEGER): Generator<AuditEntry & { prevHash: string | null; hash: string | null }> {
    for (const r of this.q.range.iterate(from, to)) {
      yield { id: r.id, ts: r.ts, actor: r.actor, action: r.action, target: r.target, detail: JSON.parse(r.detail) as Record<string, unknown>, prevHash: r.prev_hash, hash: r.hash };
    }
  }

  /**
   * Walks the chain from the retention anchor (or the start): each row's prev_hash must be the previous row's
   * hash and its hash must match its content. Rows from before the chain existed (no hash) are skipped while
   * they come first. Answers the first broken row.
   */
  verify(): VerifyResult {
    const anchor = this.q.anchor.get();
    let prev = anchor?.hash ?? GENESIS;
    let prevId = anchor?.last_id ?? null;
    let rows = 0;
    let chained = false;
    for (const r of this.q.all.iterate()) {
      if (r.hash === null && !chained) continue;
      chained = true;
      rows++;
      if (prevId !== null && r.id !== prevId + 1) return { ok: false, rows, brokenId: r.id, reason: `row ${prevId + 1} is missing before it` };
      if (r.prev_hash !== prev) return { ok: false, rows, brokenId: r.id, reason: 'its prev_hash is not the previous row hash' };
      if (r.hash !== rowHash(prev, r)) return { ok: false, rows, brokenId: r.id, reason: 'its content does not match its hash' };
      prev = r.hash;
      prevId = r.id;
    }
    return { ok: true, rows, lastId: prevId };
  }

  /**
   * The retention job: deletes entries older than `retentionDays` (at least 180), opening the trigger gate for the
   * delete only, and keeps the last deleted row's id and hash as the chain's new anchor. Answers how many went.
   */
  retire(retentionDays: number, now = Date.now()): number {
    const days = Math.max(180, retentionDays);
    const cutoff = now - days * 86_400_000;
    return this.db.transaction(() => {
      const last = this.db.prepare<[number], { id: number; hash: string | null }>('SELECT id, hash FROM audit WHERE ts < ? ORDER BY id DESC LIMIT 1').get(cutoff);
      if (!last) return 0;
      this.db.prepare('UPDATE audit_gate SET open = 1 WHERE id = 1').run();
      const n = this.db.prepare<[number]>('DELETE FROM audit WHERE id <= ?').run(last.id).changes;
      this.db.prepare('UPDATE audit_gate SET open = 0 WHERE id = 1').run();
      if (last.hash) this.db.prepare('INSERT INTO audit_anchor (id, last_id, hash) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash').run(last.id, last.hash);
      return n;
    })();
  }
}
