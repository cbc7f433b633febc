import { newId } from '@warden/contract';
import type { StateDb } from '../store/state-db.ts';
import type { Alarm, AlarmState, AlarmType, Priority, TimelineEntry, TimelineKind } from './types.ts';

interface Row {
  n: number;
  id: string;
  rule: string;
  type: string;
  priority: string;
  state: string;
  latching: number;
  condition_cleared: number;
  device: string;
  gateway: string | null;
  building: string | null;
  zone: string | null;
  credential: string | null;
  title: string;
  count: number;
  first_at: number;
  last_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  ack_note: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  resolve_note: string | null;
  escalated_at: number | null;
  escalated_to: string | null;
}

const view = (r: Row): Alarm => ({
  id: r.id,
  rule: r.rule,
  type: r.type as AlarmType,
  priority: r.priority as Priority,
  state: r.state as AlarmState,
  latching: r.latching === 1,
  conditionCleared: r.condition_cleared === 1,
  device: r.device,
  gateway: r.gateway,
  building: r.building,
  zone: r.zone,
  credential: r.credential,
  title: r.title,
  count: r.count,
  firstAt: r.first_at,
  lastAt: r.last_at,
  acknowledgedAt: r.acknowledged_at,
  acknowledgedBy: r.acknowledged_by,
  ackNote: r.ack_note,
  resolvedAt: r.resolved_at,
  resolvedBy: r.resolved_by,
  resolveNote: r.resolve_note,
  escalatedAt: r.escalated_at,
  escalatedTo: r.escalated_to,
});

export interface NewAlarm {
  rule: string;
  type: AlarmType;
  priority: Priority;
  latching: boolean;
  device: string;
  gateway: string | null;
  building: string | null;
  zone: string | null;
  credential: string | null;
  title: string;
  ts: number;
}

/**
 * The linkage journal's row for one alarm: written pending in the alarm's own commit, so a hub that dies before the
 * commands reached the gateway finds it at the next start. `needed` = the commands the linkage comprises (null until
 * its first run), `done` = those finished (a command.result ok, covered by another alarm, or refused for good),
 * `sent` = commands handed to the broker and not yet answered (command id -> key and time).
 */
export interface LinkageJournal {
  alarm: string;
  state: 'pending' | 'done';
  at: number;
  needed: string[] | null;
  done: string[];
  sent: Record<string, { key: string; at: number }>;
  resumed: number;
}

export interface AlarmQuery {
  state?: 'open' | AlarmState;
  priorities?: string[];
  /** Exact types or families ending in `.*`. */
  types?: string[];
  building?: string;
  device?: string;
  q?: string;
  from?: number;
  to?: number;
  limit: number;
  before?: number;
}

interface JournalRow {
  alarm: string;
  state: string;
  at: number;
  needed: string | null;
  done: string;
  sent: string;
  resumed: number;
}

const journalView = (r: JournalRow): LinkageJournal => ({
  alarm: r.alarm,
  state: r.state === 'done' ? 'done' : 'pending',
  at: r.at,
  needed: r.needed === null ? null : (JSON.parse(r.needed) as string[]),
  done: JSON.parse(r.done) as string[],
  sent: JSON.parse(r.sent) as LinkageJournal['sent'],
  resumed: r.resumed,
});

/** The key that makes a storm of one condition a single open alarm. */
export function openKey(type: string, device: string, credential: string | null): string {
  return `${type}|${device}|${credential ?? ''}`;
}

/** Alarms and their timelines in SQLite; every change is one statement or one transaction. */
export class AlarmRepo {
  private readonly q;
  constructor(private readonly db: StateDb) {
    // Durable rule state (timers and open conditions: a door opened and not closed, a device offline in its debounce),
    // written in the engine's group commit and read back when the engine starts (hub restart).
    db.exec(`CREATE TABLE IF NOT EXISTS alarm_rule_state (
      rule TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (rule, name, key)
    ) WITHOUT ROWID`);
    // The linkage journal (LinkageJournal): pending linkage of an alarm survives a hub restart.
    db.exec(`CREATE TABLE IF NOT EXISTS alarm_linkage (
      alarm TEXT PRIMARY KEY, state TEXT NOT NULL, at INTEGER NOT NULL, needed TEXT, done TEXT NOT NULL DEFAULT '[]',
      sent TEXT NOT NULL DEFAULT '{}', resumed INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS alarm_linkage_pending ON alarm_linkage (state) WHERE state = 'pending'`);
    this.q = {
      byId: db.prepare<[string], Row>('SELECT * FROM alarms WHERE id = ?'),
      open: db.prepare<[string], Row>('SELECT * FROM alarms WHERE open_key = ?'),
      insert: db.prepare(
        `INSERT INTO alarms (id, rule, type, priority, state, latching, device, gateway, building, zone, credential, title, first_at, last_at, open_key)
         VALUES (@id, @rule, @type, @priority, 'raised', @latching, @device, @gateway, @building, @zone, @credential, @title, @ts, @ts, @openKey)`,
      ),
      repeat: db.prepare('UPDATE alarms SET count = count + 1, last_at = max(last_at, ?), condition_cleared = 0 WHERE id = ?'),
      repeatMany: db.prepare('UPDATE alarms SET count = count + ?, last_at = max(last_at, ?), condition_cleared = 0 WHERE id = ?'),
      cleared: db.prepare('UPDATE alarms SET condition_cleared = 1 WHERE id = ?'),
      ack: db.prepare(
        "UPDATE alarms SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ?, ack_note = ? WHERE id = ? AND state = 'raised'",
      ),
      resolve: db.prepare(
        `UPDATE alarms SET state = 'resolved', resolved_at = @ts, resolved_by = @actor, resolve_note = @note, open_key = NULL,
           acknowledged_at = coalesce(acknowledged_at, @ts), acknowledged_by = coalesce(acknowledged_by, @actor)
         WHERE id = @id AND state != 'resolved'`,
      ),
      escalate: db.prepare('UPDATE alarms SET escalated_at = ?, escalated_to = ? WHERE id = ? AND escalated_at IS NULL'),
      unescalated: db.prepare<[], Row>("SELECT * FROM alarms WHERE state = 'raised' AND escalated_at IS NULL"),
      ruleStateAll: db.prepare<[], { rule: string; name: string; key: string; value: string }>('SELECT rule, name, key, value FROM alarm_rule_state'),
      ruleStateSet: db.prepare('INSERT INTO alarm_rule_state (rule, name, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (rule, name, key) DO UPDATE SET value = excluded.value'),
      ruleStateDelete: db.prepare('DELETE FROM alarm_rule_state WHERE rule = ? AND name = ? AND key = ?'),
      journalInsert: db.prepare("INSERT OR IGNORE INTO alarm_linkage (alarm, state, at) VALUES (?, 'pending', ?)"),
      journalGet: db.prepare<[string], JournalRow>('SELECT * FROM alarm_linkage WHERE alarm = ?'),
      journalPending: db.prepare<[], JournalRow>("SELECT * FROM alarm_linkage WHERE state = 'pending' ORDER BY at"),
      journalPrune: db.prepare("DELETE FROM alarm_linkage WHERE state = 'done' AND at < ?"),
      journalUpdate: db.prepare('UPDATE alarm_linkage SET state = @state, needed = @needed, done = @done, sent = @sent, resumed = @resumed WHERE alarm = @alarm'),
      timeline: db.prepare('INSERT INTO alarm_timeline (alarm, ts, kind, actor, note, event_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      timelineOf: db.prepare<[string], { ts: number; kind: string; actor: string | null; note: string | null; event_id: string | null; detail: string | null }>(
        'SELECT ts, kind, actor, note, event_id, detail FROM alarm_timeline WHERE alarm = ? ORDER BY id',
      ),
    };
  }

  get(id: string): Alarm | null {
    const r = this.q.byId.get(id);
    return r ? view(r) : null;
  }

  findOpen(type: AlarmType, device: string, credential: string | null): Alarm | null {
    const r = this.q.open.get(openKey(type, device, credential));
    return r ? view(r) : null;
  }

  create(a: NewAlarm): Alarm {
    const id = newId(a.ts);
    this.q.insert.run({ ...a, id, latching: a.latching ? 1 : 0, openKey: openKey(a.type, a.device, a.credential) });
    return this.get(id)!;
  }

  repeat(id: string, ts: number): Alarm {
    this.q.repeat.run(ts, id);
    return this.get(id)!;
  }

  /** `n` more triggers folded into one alarm at once (flood control's storm alarms). */
  repeatMany(id: string, n: number, ts: number): void {
    this.q.repeatMany.run(n, ts, id);
  }

  markCleared(id: string): Alarm {
    this.q.cleared.run(id);
    return this.get(id)!;
  }

  /** False when the alarm is not in state raised. */
  acknowledge(id: string, actor: string, note: string | null, ts: number): boolean {
    return this.q.ack.run(ts, actor, note, id).changes === 1;
  }

  /** False when already resolved. A raised alarm is acknowledged by the same actor at the same time. */
  resolve(id: string, actor: string, note: string | null, ts: number): boolean {
    return this.q.resolve.run({ id, actor, note, ts }).changes === 1;
  }

  escalate(id: string, to: string, ts: number): boolean {
    return this.q.escalate.run(ts, to, id).changes === 1;
  }

  unescalatedRaised(): Alarm[] {
    return this.q.unescalated.all().map(view);
  }

  /** Every rule's durable state, as stored (the engine hands each rule its own). */
  ruleStates(): Array<{ rule: string; name: string; key: string; value: unknown }> {
    return this.q.ruleStateAll.all().map((r) => ({ rule: r.rule, name: r.name, key: r.key, value: JSON.parse(r.value) as unknown }));
  }

  setRuleState(rule: string, name: string, key: string, value: unknown): void {
    if (value === undefined) this.q.ruleStateDelete.run(rule, name, key);
    else this.q.ruleStateSet.run(rule, name, key, JSON.stringify(value));
  }

  /** Records that an alarm's linkage is due (called in the alarm's own transaction). */
  journalLinkage(alarm: string, at: number): void {
    this.q.journalInsert.run(alarm, at);
  }

  linkageJournal(alarm: string): LinkageJournal | null {
    const r = this.q.journalGet.get(alarm);
    return r ? journalView(r) : null;
  }

  pendingLinkage(): LinkageJournal[] {
    return this.q.journalPending.all().map(journalView);
  }

  saveLinkage(j: LinkageJournal): void {
    this.q.journalUpdate.run({ alarm: j.alarm, state: j.state, needed: j.needed ? JSON.stringify(j.needed) : null, done: JSON.stringify(j.done), sent: JSON.stringify(j.sent), resumed: j.resumed });
  }

  /** Forgets finished journal rows older than `before` (the alarm's timeline keeps what the linkage did). */
  pruneLinkage(before: number): number {
    return this.q.journalPrune.run(before).changes;
  }

  addTimeline(alarm: string, kind: TimelineKind, e: Omit<TimelineEntry, 'kind'>): void {
    this.q.timeline.run(alarm, e.ts, kind, e.actor ?? null, e.note ?? null, e.eventId ?? null, e.detail ? JSON.stringify(e.detail) : null);
  }

  timeline(alarm: string): TimelineEntry[] {
    return this.q.timelineOf.all(alarm).map((r) => ({
      ts: r.ts,
      kind: r.kind as TimelineKind,
      ...(r.actor !== null ? { actor: r.actor } : {}),
      ...(r.note !== null ? { note: r.note } : {}),
      ...(r.event_id !== null ? { eventId: r.event_id } : {}),
      ...(r.detail !== null ? { detail: JSON.parse(r.detail) as Record<string, unknown> } : {}),
    }));
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Newest first (creation order); `next` is the cursor of the following page. */
  query(q: AlarmQuery): { alarms: Alarm[]; next: number | null } {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.state === 'open') where.push("state != 'resolved'");
    else if (q.state) (where.push('state = ?'), args.push(q.state));
    if (q.priorities?.length) (where.push(`priority IN (${q.priorities.map(() => '?').join(',')})`), args.push(...q.priorities));
    if (q.types?.length) {
      const ors = q.types.map((t) => {
        if (t.endsWith('.*')) {
          args.push(`${t.slice(0, -1)}%`);
          return 'type LIKE ?';
        }
        args.push(t);
        return 'type = ?';
      });
      where.push(`(${ors.join(' OR ')})`);
    }
    if (q.building) (where.push('building = ?'), args.push(q.building));
    if (q.device) (where.push('device = ?'), args.push(q.device));
    if (q.from !== undefined) (where.push('first_at >= ?'), args.push(q.from));
    if (q.to !== undefined) (where.push('first_at <= ?'), args.push(q.to));
    if (q.before !== undefined) (where.push('n < ?'), args.push(q.before));
    if (q.q) {
      const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const cols = ['title', 'device', 'building', 'zone', 'credential', 'ack_note', 'resolve_note', 'acknowledged_by', 'resolved_by'];
      where.push(`(${cols.map((c) => `${c} LIKE ? ESCAPE '\\'`).join(' OR ')})`);
      for (let i = 0; i < cols.length; i++) args.push(like);
    }
    const sql = `SELECT * FROM alarms ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n DESC LIMIT ?`;
    const rows = this.db.prepare<Array<string | number>, Row>(sql).all(...args, q.limit + 1);
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    return { alarms: page.map(view), next: more ? page[page.length - 1]!.n : null };
  }
}
