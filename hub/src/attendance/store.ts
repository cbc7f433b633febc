import type { Leave, NightRow, NightStateName } from '@warden/contract';
import type { StateDb } from '../store/state-db.ts';
import type { RosterRow } from './import.ts';
import type { Crossing, Outage } from './resolver.ts';
import { Roster, type Placement, type Student } from './roster.ts';

export interface StoredCrossing extends Crossing {
  student: string;
  device: string;
  gateway: string;
  receivedAt: number;
  eventId: string;
}

interface NightDbRow {
  student: string;
  night: string;
  name: string;
  building: string;
  floor: string;
  room: string;
  state: string;
  at: number | null;
  out_again: number;
  reason: string | null;
  revision: number;
  corrected_at: number | null;
  previous_state: string | null;
}

const nightRow = (r: NightDbRow): NightRow => ({
  student: r.student,
  name: r.name,
  night: r.night,
  building: r.building,
  floor: r.floor,
  room: r.room,
  state: r.state as NightStateName,
  at: r.at,
  outAgain: r.out_again === 1,
  reason: r.reason,
  revision: r.revision,
  correctedAt: r.corrected_at,
  previousState: (r.previous_state as NightStateName | null) ?? null,
});

interface LeaveDbRow {
  id: number;
  student: string;
  from_night: string;
  to_night: string;
  reason: string;
  status: string;
  created_by: string;
  created_at: number;
  decided_by: string | null;
  decided_at: number | null;
}
const leave = (r: LeaveDbRow): Leave => ({
  id: r.id,
  student: r.student,
  from: r.from_night,
  to: r.to_night,
  reason: r.reason,
  status: r.status as Leave['status'],
  createdBy: r.created_by,
  createdAt: r.created_at,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

/** The attendance tables of the hub's state database. */
export class AttendanceStore {
  private readonly q;
  constructor(private readonly db: StateDb) {
    this.q = {
      students: db.prepare<[], { id: string; name: string; exempt: number; left_on: string | null }>('SELECT id, name, exempt, left_on FROM attendance_students'),
      placements: db.prepare<[], { student: string; building: string; floor: string; room: string; from_night: string; to_night: string | null }>(
        'SELECT student, building, floor, room, from_night, to_night FROM attendance_placements',
      ),
      upsertStudent: db.prepare(
        'INSERT INTO attendance_students (id, name, exempt, left_on, updated_at) VALUES (?, ?, ?, NULL, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, exempt = excluded.exempt, left_on = NULL, updated_at = excluded.updated_at',
      ),
      leaveStudent: db.prepare('UPDATE attendance_students SET left_on = ?, updated_at = ? WHERE id = ?'),
      closePlacement: db.prepare('UPDATE attendance_placements SET to_night = ? WHERE student = ? AND to_night IS NULL'),
      // A placement that would start and end on the same night is dropped rather than kept empty.
      dropEmpty: db.prepare('DELETE FROM attendance_placements WHERE student = ? AND to_night IS NOT NULL AND to_night <= from_night'),
      openPlacement: db.prepare('INSERT INTO attendance_placements (student, building, floor, room, from_night, to_night) VALUES (?, ?, ?, ?, ?, NULL)'),
      insertCrossing: db.prepare(
        'INSERT INTO attendance_crossings (event_id, student, ts, direction, device, gateway, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(event_id) DO NOTHING',
      ),
      crossingsBetween: db.prepare<[number, number], { student: string; ts: number; direction: 'in' | 'out' }>(
        'SELECT student, ts, direction FROM attendance_crossings WHERE ts >= ? AND ts < ? ORDER BY ts',
      ),
      crossingsOf: db.prepare<[string, number, number], { ts: number; direction: 'in' | 'out' }>(
        'SELECT ts, direction FROM attendance_crossings WHERE student = ? AND ts >= ? AND ts < ? ORDER BY ts',
      ),
      point: db.prepare('INSERT INTO attendance_points (device, gateway, building) VALUES (?, ?, ?) ON CONFLICT(device) DO UPDATE SET gateway = excluded.gateway, building = coalesce(excluded.building, attendance_points.building)'),
      points: db.prepare<[], { device: string; gateway: string; building: string | null }>('SELECT device, gateway, building FROM attendance_points'),
      openOutage: db.prepare<[string, string], { id: number }>('SELECT id FROM attendance_outages WHERE kind = ? AND target = ? AND to_ts IS NULL'),
      startOutage: db.prepare('INSERT INTO attendance_outages (kind, target, from_ts, to_ts) VALUES (?, ?, ?, NULL)'),
      endOutage: db.prepare('UPDATE attendance_outages SET to_ts = ? WHERE id = ?'),
      outages: db.prepare<[number, number], { kind: string; target: string; from_ts: number; to_ts: number | null }>(
        'SELECT kind, target, from_ts, to_ts FROM attendance_outages WHERE from_ts <= ? AND (to_ts IS NULL OR to_ts >= ?) ORDER BY from_ts, id',
      ),
      insertLeave: db.prepare(
        'INSERT INTO attendance_leaves (student, from_night, to_night, reason, status, created_by, created_at, decided_by, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      getLeave: db.prepare<[number], LeaveDbRow>('SELECT * FROM attendance_leaves WHERE id = ?'),
      decideLeave: db.prepare('UPDATE attendance_leaves SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?'),
      leavesOn: db.prepare<[string, string], { student: string }>("SELECT DISTINCT student FROM attendance_leaves WHERE status = 'approved' AND from_night <= ? AND to_night >= ?"),
      leavesOf: db.prepare<[string], LeaveDbRow>('SELECT * FROM attendance_leaves WHERE student = ? ORDER BY from_night DESC, id DESC'),
      leavesFrom: db.prepare<[string, number], LeaveDbRow>('SELECT * FROM attendance_leaves WHERE to_night >= ? ORDER BY from_night, id LIMIT ?'),
      upsertNight: db.prepare(
        `INSERT INTO attendance_nights (student, night, name, building, floor, room, state, at, out_again, reason, revision, reported_at, corrected_at, previous_state)
         VALUES (@student, @night, @name, @building, @floor, @room, @state, @at, @outAgain, @reason, @revision, @reportedAt, @correctedAt, @previousState)
         ON CONFLICT(student, night) DO UPDATE SET state = excluded.state, at = excluded.at, out_again = excluded.out_again, reason = excluded.reason,
           revision = excluded.revision, corrected_at = excluded.corrected_at, previous_state = excluded.previous_state`,
      ),
      night: db.prepare<[string, string], NightDbRow>('SELECT * FROM attendance_nights WHERE student = ? AND night = ?'),
      nightsOf: db.prepare<[string, string, string], NightDbRow>('SELECT * FROM attendance_nights WHERE student = ? AND night >= ? AND night <= ? ORDER BY night DESC'),
      nightsBetween: db.prepare<[string, string], NightDbRow>('SELECT * FROM attendance_nights WHERE night >= ? AND night <= ?'),
      reported: db.prepare<[string, string], { reported_at: number }>('SELECT reported_at FROM attendance_reports WHERE night = ? AND building = ?'),
      reportedNights: db.prepare<[string], { night: string }>('SELECT DISTINCT night FROM attendance_reports WHERE night >= ?'),
      markReported: db.prepare('INSERT INTO attendance_reports (night, building, reported_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
      settings: db.prepare<[], { settings: string }>('SELECT settings FROM attendance_settings WHERE id = 1'),
      saveSettings: db.prepare(
        'INSERT INTO attendance_settings (id, settings, updated_at, updated_by) VALUES (1, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
      ),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  loadRoster(): Roster {
    const students: Student[] = this.q.students.all().map((r) => ({ id: r.id, name: r.name, exempt: r.exempt === 1, leftOn: r.left_on }));
    const placements: Placement[] = this.q.placements.all().map((r) => ({ student: r.student, building: r.building, floor: r.floor, room: r.room, from: r.from_night, to: r.to_night }));
    return new Roster(students, placements);
  }

  /**
   * Applies a checked import from `effective` on, in one transaction: new students placed, moved ones get a new
   * placement (the old one ends), students missing from the file leave. Nothing is half-applied.
   */
  applyRoster(roster: Roster, rows: readonly RosterRow[], effective: string, now: number): void {
    this.db.transaction(() => {
      const inFile = new Set<string>();
      for (const r of rows) {
        inFile.add(r.student);
        const cur = roster.current(r.student);
        this.q.upsertStudent.run(r.student, r.name, r.exempt ? 1 : 0, now);
        if (cur && cur.building === r.building && cur.floor === r.floor && cur.room === r.room) continue;
        this.q.closePlacement.run(effective, r.student);
        this.q.dropEmpty.run(r.student);
        this.q.openPlacement.run(r.student, r.building, r.floor, r.room, effective);
      }
      for (const s of roster.students.values()) {
        if (inFile.has(s.id) || !roster.current(s.id)) continue;
        this.q.closePlacement.run(effective, s.id);
        this.q.dropEmpty.run(s.id);
        this.q.leaveStudent.run(effective, now, s.id);
      }
    })();
  }

  /** false when this event was already recorded. */
  addCrossing(c: StoredCrossing): boolean {
    return this.q.insertCrossing.run(c.eventId, c.student, c.ts, c.direction, c.device, c.gateway, c.receivedAt).changes > 0;
  }

  /** Crossings in [from, to), grouped by student. */
  crossingsBetween(from: number, to: number): Map<string, Crossing[]> {
    const out = new Map<string, Crossing[]>();
    for (const r of this.q.crossingsBetween.iterate(from, to)) {
      let list = out.get(r.student);
      if (!list) out.set(r.student, (list = []));
      list.push({ ts: r.ts, direction: r.direction });
    }
    return out;
  }

  crossingsOf(student: string, from: number, to: number): Crossing[] {
    return this.q.crossingsOf.all(student, from, to);
  }

  notePoint(device: string, gateway: string, building: string | null): void {
    this.q.point.run(device, gateway, building);
  }

  points(): Array<{ device: string; gateway: string; building: string | null }> {
    return this.q.points.all();
  }

  /** Records an availability change; only a change of state opens or closes an outage. */
  availability(kind: 'point' | 'gateway', target: string, online: boolean, ts: number): void {
    const open = this.q.openOutage.get(kind, target);
    if (!online && !open) this.q.startOutage.run(kind, target, ts);
    else if (online && open) this.q.endOutage.run(ts, open.id);
  }

  /** Outages overlapping [from, to], by target (device or gateway id). */
  outagesBetween(from: number, to: number): Map<string, Outage[]> {
    const out = new Map<string, Outage[]>();
    for (const r of this.q.outages.all(to, from)) {
      const list = out.get(r.target) ?? [];
      list.push({ kind: r.kind as Outage['kind'], from: r.from_ts, to: r.to_ts });
      out.set(r.target, list);
    }
    return out;
  }

  addLeave(l: { student: string; from: string; to: string; reason: string; status: Leave['status']; by: string; now: number }): Leave {
    const decided = l.status === 'approved';
    const id = Number(this.q.insertLeave.run(l.student, l.from, l.to, l.reason, l.status, l.by, l.now, decided ? l.by : null, decided ? l.now : null).lastInsertRowid);
    return this.getLeave(id)!;
  }

  getLeave(id: number): Leave | null {
    const r = this.q.getLeave.get(id);
    return r ? leave(r) : null;
  }

  decideLeave(id: number, status: Leave['status'], by: string, now: number): Leave {
    this.q.decideLeave.run(status, by, now, id);
    return this.getLeave(id)!;
  }

  /** Students with approved leave covering a night. */
  onLeave(night: string): Set<string> {
    return new Set(this.q.leavesOn.all(night, night).map((r) => r.student));
  }

  leavesOf(student: string): Leave[] {
    return this.q.leavesOf.all(student).map(leave);
  }

  /** Leaves still running on or after a night. */
  leavesFrom(night: string, limit = 5000): Leave[] {
    return this.q.leavesFrom.all(night, limit).map(leave);
  }

  reportedNight(student: string, night: string): NightRow | null {
    const r = this.q.night.get(student, night);
    return r ? nightRow(r) : null;
  }

  saveNights(rows: readonly NightRow[], reportedAt: number): void {
    this.db.transaction(() => {
      for (const r of rows) {
        this.q.upsertNight.run({ ...r, outAgain: r.outAgain ? 1 : 0, reportedAt });
      }
    })();
  }

  nightsOf(student: string, from: string, to: string): NightRow[] {
    return this.q.nightsOf.all(student, from, to).map(nightRow);
  }

  nightsBetween(from: string, to: string): NightRow[] {
    return this.q.nightsBetween.all(from, to).map(nightRow);
  }

  isReported(night: string, building: string): boolean {
    return this.q.reported.get(night, building) !== undefined;
  }

  /** Nights (from a date on) with at least one building reported. */
  reportedNights(from: string): Set<string> {
    return new Set(this.q.reportedNights.all(from).map((r) => r.night));
  }

  markReported(night: string, building: string, now: number): boolean {
    return this.q.markReported.run(night, building, now).changes > 0;
  }

  settings(): unknown {
    const r = this.q.settings.get();
    return r ? (JSON.parse(r.settings) as unknown) : undefined;
  }

  saveSettings(settings: unknown, by: string, now: number): void {
    this.q.saveSettings.run(JSON.stringify(settings), now, by);
  }
}

