import type { EventRecord } from '@warden/contract';
import type { StateDb } from './state-db.ts';

export interface StoredEvent {
  id: string;
  seq: number;
  gateway: string;
  device: string;
  type: string;
  ts: number;
  receivedAt: number;
  data: Record<string, unknown>;
}

export interface EventQuery {
  from?: number;
  to?: number;
  device?: string;
  gateway?: string;
  /** Exact type, or a family ending in `.*` (e.g. `door.*`). */
  type?: string;
  limit: number;
  /** Cursor from a previous page: only events that arrived before it. */
  before?: number;
}

interface Row {
  n: number;
  id: string;
  seq: number;
  gateway: string;
  device: string;
  type: string;
  ts: number;
  received_at: number;
  data: string;
}

/** Events in arrival order (n); ids are unique, so a resent record is recognised and not stored twice. */
export class EventRepo {
  private readonly insertQ;
  constructor(private readonly db: StateDb) {
    this.insertQ = db.prepare(
      'INSERT INTO events (id, seq, gateway, device, type, ts, received_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING',
    );
  }

  /** Returns the stored event, or null when this id is already stored. Call inside a transaction for batches. */
  insert(r: EventRecord, gateway: string, receivedAt: number): StoredEvent | null {
    const res = this.insertQ.run(r.id, r.seq, gateway, r.device, r.type, r.ts, receivedAt, JSON.stringify(r.data));
    if (res.changes === 0) return null;
    return { id: r.id, seq: r.seq, gateway, device: r.device, type: r.type, ts: r.ts, receivedAt, data: r.data as Record<string, unknown> };
  }

  /** Newest arrival first; `next` is the cursor for the following page, null on the last one. */
  query(q: EventQuery): { events: StoredEvent[]; next: number | null } {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.from !== undefined) (where.push('ts >= ?'), args.push(q.from));
    if (q.to !== undefined) (where.push('ts <= ?'), args.push(q.to));
    if (q.device) (where.push('device = ?'), args.push(q.device));
    if (q.gateway) (where.push('gateway = ?'), args.push(q.gateway));
    if (q.type?.endsWith('.*')) {
      // A range instead of LIKE, so the type index serves it: 'door.' <= type < 'door/'.
      const prefix = q.type.slice(0, -1);
      const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
      where.push('type >= ? AND type < ?');
      args.push(prefix, upper);
    } else if (q.type) {
      where.push('type = ?');
      args.push(q.type);
    }
    if (q.before !== undefined) (where.push('n < ?'), args.push(q.before));
    const sql = `SELECT n, id, seq, gateway, device, type, ts, received_at, data FROM events
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n DESC LIMIT ?`;
    const rows = this.db.prepare<Array<string | number>, Row>(sql).all(...args, q.limit + 1);
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    return {
      events: page.map((r) => ({
        id: r.id,
        seq: r.seq,
        gateway: r.gateway,
        device: r.device,
        type: r.type,
        ts: r.ts,
        receivedAt: r.received_at,
        data: JSON.parse(r.data) as Record<string, unknown>,
      })),
      next: more ? page[page.length - 1]!.n : null,
    };
  }
}

/** Telemetry record ids seen recently: the telemetry store has no id column, so deduplication happens here. */
export class TelemetryIdRepo {
  private readonly q;
  constructor(db: StateDb) {
    this.q = {
      has: db.prepare<[string], { id: string }>('SELECT id FROM telemetry_ids WHERE id = ?'),
      insert: db.prepare('INSERT INTO telemetry_ids (id, received_at) VALUES (?, ?) ON CONFLICT(id) DO NOTHING'),
      prune: db.prepare('DELETE FROM telemetry_ids WHERE received_at < ?'),
    };
  }

  seen(id: string): boolean {
    return this.q.has.get(id) !== undefined;
  }

  remember(id: string, receivedAt: number): void {
    this.q.insert.run(id, receivedAt);
  }

  forgetBefore(ts: number): number {
    return this.q.prune.run(ts).changes;
  }
}

export interface DeadLetter {
  gateway: string | null;
  reason: string;
  detail: string;
  recordId?: string | null;
  raw: string;
}

const RAW_EXCERPT = 2048;

/** Refused input, kept (bounded, oldest dropped first) so nothing a gateway sent disappears without a trace. */
export class DeadLetterRepo {
  private readonly q;
  constructor(
    db: StateDb,
    private readonly limit: number,
  ) {
    this.q = {
      insert: db.prepare('INSERT INTO dead_letters (ts, gateway, reason, detail, record_id, raw) VALUES (?, ?, ?, ?, ?, ?)'),
      prune: db.prepare('DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?'),
      list: db.prepare<[number], { id: number; ts: number; gateway: string | null; reason: string; detail: string; record_id: string | null; raw: string }>(
        'SELECT id, ts, gateway, reason, detail, record_id, raw FROM dead_letters ORDER BY id DESC LIMIT ?',
      ),
    };
  }

  add(d: DeadLetter, now = Date.now()): void {
    this.q.insert.run(now, d.gateway, d.reason, d.detail.slice(0, 1000), d.recordId ?? null, excerpt(d.raw));
  }

  prune(): void {
    this.q.prune.run(this.limit);
  }

  recent(limit = 100) {
    return this.q.list.all(limit);
  }
}

export function excerpt(raw: string | Buffer): string {
  const s = typeof raw === 'string' ? raw.slice(0, RAW_EXCERPT) : raw.subarray(0, RAW_EXCERPT).toString('utf8');
  return s.length >= RAW_EXCERPT ? `${s}…` : s;
}
