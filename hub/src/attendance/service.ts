import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { AttendanceLive, AttendanceSettings, Leave, NightRow, NightStateName, RosterDiff, RosterRowError, Summary, TonightBoard } from '@warden/contract';
import type { AuditLog } from '../audit.ts';
import { HubError } from '../errors.ts';
import type { StoredEvent } from '../store/events.ts';
import { AttendanceCalendar, parseSettings } from './calendar.ts';
import { diffRoster, parseRosterFile } from './import.ts';
import { reportMarkdown, sendWebhook, webhookBody } from './notify.ts';
import { resolveNight, type Crossing, type Outage } from './resolver.ts';
import type { Roster, Student } from './roster.ts';
import { AttendanceStore, type StoredCrossing } from './store.ts';
import { addDays, daysBetween, isDate, weekday } from './tz.ts';

const DAY = 86_400_000;
/** A report missed while the hub was down is still made up to this long after its time (e.g. a restart next morning). */
const CATCH_UP_MS = 12 * 3_600_000;
/** Crossings kept in memory: a week back plus the lookback day. */
const RECENT_DAYS = 8;

/** Cached nights kept in memory (tonight, last night and a couple of recent ones asked for). */
const CACHED_NIGHTS = 4;
const FLAGGED: ReadonlySet<NightStateName> = new Set(['absent', 'late', 'unknown']);
/** Numeric-aware order of rooms and floors (one collator: localeCompare with options builds one per call). */
const byNumber = new Intl.Collator('en', { numeric: true }).compare;

/**
 * One night's resolved rows, kept up to date as input arrives: a check-in, leave decision or outage marks only the
 * students it can change dirty; time marks a row dirty when its `validUntil` passes (curfew, a future-stamped
 * crossing). Reads re-resolve the dirty rows only, so the curfew report of 30,000 students is a walk over the
 * late/absent/unknown index instead of a full resolve.
 */
interface NightCache {
  rows: Map<string, NightRow>;
  /** student -> instant the row stops holding (only finite ones). */
  expires: Map<string, number>;
  nextExpiry: number;
  dirty: Set<string>;
  /** building -> student -> row, for rows late, absent or unknown (what the curfew report lists). */
  flagged: Map<string, Map<string, NightRow>>;
  used: number;
}

function insertSorted(list: Crossing[], c: Crossing): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.ts > c.ts) i--;
  list.splice(i, 0, c);
}

/**
 * What a user may see: null = all (admin); else the buildings in the set, plus (a counsellor's) students by id
 * wherever they live.
 */
export type Scope = (ReadonlySet<string> & { readonly students?: ReadonlySet<string> }) | null;

/** A scope of buildings and students. */
export function scopeOf(buildings: Iterable<string>, students: Iterable<string> = []): NonNullable<Scope> {
  const st = new Set(students);
  return st.size > 0 ? Object.assign(new Set(buildings), { students: st }) : new Set(buildings);
}

/** Does the scope show this student's row in this building? */
export function sees(scope: Scope, building: string, student: string): boolean {
  return scope === null || scope.has(building) || scope.students?.has(student) === true;
}

export interface AttendanceDeps {
  store: AttendanceStore;
  audit: AuditLog;
  now: () => number;
  /** Building of a device from the hub's inventory, if it says. */
  deviceBuilding?: (device: string) => string | null;
  /** Live push of one message, with the building it concerns (the feed scopes by it). */
  publish?: (msg: AttendanceLive) => void;
  registry?: Registry;
  log?: Logger;
  /** Check interval of the curfew reporter (ms); 0 disables the timer (tests call tick()). */
  tickMs?: number;
}

export type RosterImport = { ok: false; errors: RosterRowError[] } | { ok: true; applied: boolean; diff: RosterDiff };

/**
 * Dorm attendance on the hub: stores check-ins and check-in point outages, resolves nights, reports late and absent
 * students at curfew + N (live and to webhooks), corrects reported nights when late check-ins or leave decisions arrive.
 */
export class AttendanceService {
  private roster: Roster;
  private cal: AttendanceCalendar;
  private timer: NodeJS.Timeout | undefined;
  private readonly metrics;
  private pendingSends = new Set<Promise<unknown>>();
  private started = false;
  private readonly queue: StoredCrossing[] = [];
  private flushScheduled = false;
  /** device -> "gateway|building" already written to attendance_points. */
  private readonly knownPoints = new Map<string, string>();
  /**
   * The last RECENT_MS of crossings per student, sorted by time, in memory: the curfew report of 30,000 students
   * reads them without a table scan. Older nights are read from SQLite.
   */
  private recent = new Map<string, Crossing[]>();
  private recentFrom = 0;
  /** Nights with a report (only those can be corrected). */
  private reportedNights = new Set<string>();
  /** Resolved nights kept up to date (see NightCache). */
  private readonly nights = new Map<string, NightCache>();
  private uses = 0;

  constructor(private readonly d: AttendanceDeps) {
    this.roster = d.store.loadRoster();
    this.cal = new AttendanceCalendar(parseSettings(d.store.settings() ?? {}));
    this.loadRecent();
    this.reportedNights = d.store.reportedNights(addDays(this.cal.nightOf(d.now()), -RECENT_DAYS - 2));
    const registers = d.registry ? [d.registry] : [];
    this.metrics = {
      checkins: new Counter({ name: 'warden_hub_attendance_checkins_total', help: 'Dorm check-ins taken into attendance, by outcome', labelNames: ['outcome'] as const, registers }),
      corrections: new Counter({ name: 'warden_hub_attendance_corrections_total', help: 'Reported nights changed afterwards, by cause', labelNames: ['cause'] as const, registers }),
      webhooks: new Counter({ name: 'warden_hub_attendance_webhooks_total', help: 'Curfew list notifications sent to robot webhooks, by kind and outcome', labelNames: ['kind', 'outcome'] as const, registers }),
      reports: new Counter({ name: 'warden_hub_attendance_reports_total', help: 'Curfew reports produced (one per building and night)', registers }),
    };
  }

  private loadRecent(): void {
    this.recentFrom = this.d.now() - RECENT_DAYS * DAY;
    this.recent = this.d.store.crossingsBetween(this.recentFrom, Number.MAX_SAFE_INTEGER);
    for (const list of this.recent.values()) list.sort((a, b) => a.ts - b.ts);
  }

  /** Crossings of the students in [from, to): from memory when the window is recent enough. */
  private crossings(from: number, to: number, only?: readonly string[]): Map<string, Crossing[]> {
    if (from < this.recentFrom) {
      return only && only.length <= 10 ? new Map(only.map((s) => [s, this.d.store.crossingsOf(s, from, to)])) : this.d.store.crossingsBetween(from, to);
    }
    // Sorted lists as they are: the resolver skips what lies outside its window without copying.
    if (only) return new Map(only.map((s) => [s, this.recent.get(s) ?? []]));
    return this.recent;
  }

  start(): void {
    this.started = true;
    const ms = this.d.tickMs ?? this.cal.settings.reportCheckSeconds * 1000;
    if (ms > 0 && !this.timer) {
      this.timer = setInterval(() => void this.tick().catch((err: unknown) => this.d.log?.error({ err }, 'attendance report failed')), ms);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.pendingSends]);
  }

  get calendar(): AttendanceCalendar {
    return this.cal;
  }

  settings(): AttendanceSettings {
    return this.cal.settings;
  }

  updateSettings(input: unknown, actor: string): AttendanceSettings {
    let s: AttendanceSettings;
    try {
      s = parseSettings(input);
    } catch (err) {
      throw new HubError('validation_failed', (err as Error).message);
    }
    this.d.store.saveSettings(s, actor, this.d.now());
    this.cal = new AttendanceCalendar(s);
    this.nights.clear();
    if (this.started && this.d.tickMs === undefined) {
      // The check interval may have changed.
      clearInterval(this.timer);
      this.timer = undefined;
      this.start();
    }
    this.d.audit.record(actor, 'attendance.settings', null, { curfew: s.curfew, buildings: Object.keys(s.buildings), webhooks: s.webhooks.length }, this.d.now());
    return s;
  }

  // ---- roster ---------------------------------------------------------------------------------------------------

  /** Checks a roster file; with apply, replaces the roster from `effective` on in one transaction. */
  async importRoster(data: Buffer, format: 'csv' | 'xlsx', effective: string, apply: boolean, actor: string): Promise<RosterImport> {
    if (!isDate(effective)) throw new HubError('validation_failed', `effective ${effective} is not a date (YYYY-MM-DD)`);
    const parsed = await parseRosterFile(data, format);
    if (!parsed.ok) return parsed;
    const diff = diffRoster(this.roster, parsed.rows, effective);
    if (!apply) return { ok: true, applied: false, diff };
    this.d.store.applyRoster(this.roster, parsed.rows, effective, this.d.now());
    this.roster = this.d.store.loadRoster();
    this.nights.clear();
    this.d.audit.record(actor, 'attendance.roster_import', null, { effective, rows: diff.rows, added: diff.added.length, moved: diff.moved.length, left: diff.left.length, renamed: diff.renamed.length }, this.d.now());
    return { ok: true, applied: true, diff };
  }

  student(id: string): Student | null {
    return this.roster.students.get(id) ?? null;
  }

  /** Buildings of the roster a scope shows: its buildings, and where its students live now. */
  visibleBuildings(scope: Scope): string[] {
    const all = this.buildings();
    if (scope === null) return all;
    const mine = new Set(all.filter((b) => scope.has(b)));
    for (const s of scope.students ?? []) {
      const p = this.roster.current(s);
      if (p) mine.add(p.building);
    }
    return [...mine].sort();
  }

  /** Buildings of the roster (any night). */
  buildings(): string[] {
    const out = new Set<string>();
    for (const id of this.roster.students.keys()) for (const p of this.roster.placements(id)) out.add(p.building);
    return [...out].sort();
  }

  // ---- ingest ---------------------------------------------------------------------------------------------------

  /**
   * A stored event from the hub bus; only attendance.checkin matters. Check-ins are queued and written in one
   * transaction per burst (an ingest batch emits hundreds at once); every read flushes the queue first.
   */
  onEvent(e: StoredEvent): void {
    if (e.type !== 'attendance.checkin') return;
    const person = e.data.person;
    const direction = e.data.direction;
    if (typeof person !== 'string' || (direction !== 'in' && direction !== 'out')) return void this.metrics.checkins.inc({ outcome: 'malformed' });
    this.queue.push({ eventId: e.id, student: person, ts: e.ts, direction, device: e.device, gateway: e.gateway, receivedAt: e.receivedAt });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        try {
          this.flush();
        } catch (err) {
          this.d.log?.error({ err }, 'attendance: storing check-ins failed');
        }
      });
    }
  }

  /** Writes queued check-ins, then corrects reported nights they change and pushes tonight's changes. */
  flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0);
    const added: typeof batch = [];
    let newPoint = false;
    this.d.store.transaction(() => {
      for (const c of batch) {
        if (!this.d.store.addCrossing(c)) {
          this.metrics.checkins.inc({ outcome: 'duplicate' });
          continue;
        }
        added.push(c);
        if (c.ts >= this.recentFrom) {
          const list = this.recent.get(c.student);
          if (list) insertSorted(list, { ts: c.ts, direction: c.direction });
          else this.recent.set(c.student, [{ ts: c.ts, direction: c.direction }]);
        }
        const night = this.cal.nightOf(c.ts);
        const building = this.d.deviceBuilding?.(c.device) ?? this.cal.settings.points[c.device] ?? this.roster.placementOn(c.student, night)?.building ?? null;
        const key = `${c.gateway}|${building ?? ''}`;
        if (this.knownPoints.get(c.device) !== key) {
          this.d.store.notePoint(c.device, c.gateway, building);
          this.knownPoints.set(c.device, key);
          newPoint = true;
        }
      }
    });
    // A point seen for the first time (or moved) changes whose outages count in its building.
    if (newPoint) this.invalidateFaultable(null);
    const today = this.cal.nightOf(this.d.now());
    const touched = new Map<string, Set<string>>();
    for (const c of added) {
      const night = this.cal.nightOf(c.ts);
      const place = this.roster.placementOn(c.student, night);
      this.metrics.checkins.inc({ outcome: place ? 'resident' : 'not_on_roster' });
      if (!place) continue;
      // A crossing also counts for the next night (who stays in all day is still in), so both may change.
      for (const n of [night, addDays(night, 1)]) {
        const set = touched.get(n) ?? new Set<string>();
        set.add(c.student);
        touched.set(n, set);
      }
    }
    for (const [night, students] of touched) {
      const cached = this.nights.get(night);
      if (cached) for (const student of students) cached.dirty.add(student);
      const reported = this.reportedNights.has(night);
      if (!reported && night !== today) continue;
      const publish: string[] = [];
      for (const student of students) {
        const corrected = reported ? this.refresh(student, night, 'late_checkin') : null;
        if (!corrected && night === today && this.d.publish) publish.push(student);
      }
      if (publish.length > 0) for (const row of this.rowsOf(night, publish)) this.d.publish!({ kind: 'state', night, building: row.building, row });
    }
  }

  /** A check-in point (device) or gateway came or went; outages make a missing return `unknown`, not `absent`. */
  onAvailability(kind: 'point' | 'gateway', id: string, online: boolean, ts = this.d.now()): void {
    this.d.store.availability(kind, id, online, ts);
    if (this.nights.size === 0) return;
    const buildings = new Set<string>();
    for (const [building, p] of this.pointsByBuilding()) if ((kind === 'point' ? p.devices : p.gateways).has(id)) buildings.add(building);
    if (buildings.size > 0) this.invalidateFaultable(buildings);
  }

  /** An outage only turns absent into unknown (or back): those rows of the buildings (null: all) are resolved again. */
  private invalidateFaultable(buildings: ReadonlySet<string> | null): void {
    for (const c of this.nights.values()) {
      for (const row of c.rows.values()) {
        if ((row.state === 'absent' || row.state === 'unknown') && (!buildings || buildings.has(row.building))) c.dirty.add(row.student);
      }
    }
  }

  // ---- nights ---------------------------------------------------------------------------------------------------

  private pointsByBuilding(): Map<string, { devices: Set<string>; gateways: Set<string> }> {
    const out = new Map<string, { devices: Set<string>; gateways: Set<string> }>();
    const add = (building: string | null, device: string, gateway: string | null) => {
      if (!building) return;
      const e = out.get(building) ?? { devices: new Set<string>(), gateways: new Set<string>() };
      e.devices.add(device);
      if (gateway) e.gateways.add(gateway);
      out.set(building, e);
    };
    const gatewayOf = new Map<string, string>();
    for (const p of this.d.store.points()) {
      gatewayOf.set(p.device, p.gateway);
      add(this.cal.settings.points[p.device] ?? p.building, p.device, p.gateway);
    }
    for (const [device, building] of Object.entries(this.cal.settings.points)) add(building, device, gatewayOf.get(device) ?? null);
    return out;
  }

  /** Every resident's state on a night (optionally only some buildings or students), as of now, from scratch. */
  resolve(night: string, scope: Scope, only?: readonly string[]): NightRow[] {
    return this.resolveEntries(night, scope, only).map((e) => e.row);
  }

  private resolveEntries(night: string, scope: Scope, only?: readonly string[]): Array<{ row: NightRow; validUntil: number }> {
    this.flush();
    const now = this.d.now();
    const b = this.cal.bounds(night);
    const lookbackStart = b.start - DAY;
    const residents = only
      ? only.flatMap((id) => {
          const student = this.roster.students.get(id);
          const place = this.roster.placementOn(id, night);
          return student && place && sees(scope, place.building, id) ? [{ student, place }] : [];
        })
      : scope?.students?.size
        ? this.roster.residents(night).filter((r) => sees(scope, r.place.building, r.student.id))
        : this.roster.residents(night, scope ?? undefined);
    const crossings = this.crossings(lookbackStart, b.end, only);
    const leave = this.d.store.onLeave(night);
    // To the night's end: an outage stamped after now is passed on, and the resolver says when it starts to count.
    const outagesByTarget = this.d.store.outagesBetween(lookbackStart, b.end);
    const points = this.pointsByBuilding();
    const perBuilding = new Map<string, { curfew: number | null; outages: Outage[] }>();
    const building = (id: string) => {
      let e = perBuilding.get(id);
      if (!e) {
        const p = points.get(id);
        const outages: Outage[] = [];
        if (p) for (const t of [...p.devices, ...p.gateways]) outages.push(...(outagesByTarget.get(t) ?? []));
        e = { curfew: this.cal.curfew(night, id), outages };
        perBuilding.set(id, e);
      }
      return e;
    };
    const rows: Array<{ row: NightRow; validUntil: number }> = [];
    for (const { student, place } of residents) {
      const bd = building(place.building);
      const r = resolveNight({
        curfew: bd.curfew,
        lookbackStart,
        end: b.end,
        asOf: now,
        crossings: crossings.get(student.id) ?? [],
        onLeave: leave.has(student.id),
        exempt: student.exempt,
        outages: bd.outages,
      });
      rows.push({
        row: {
          student: student.id,
          name: student.name,
          night,
          building: place.building,
          floor: place.floor,
          room: place.room,
          state: r.state,
          at: r.at,
          outAgain: r.outAgain,
          reason: r.reason,
          revision: 0,
          correctedAt: null,
          previousState: null,
        },
        validUntil: r.validUntil,
      });
    }
    return rows;
  }

  // ---- the kept nights ------------------------------------------------------------------------------------------

  /** A night's kept rows, built on first use (one full resolve, merged with what was reported) and brought up to date. */
  private cache(night: string): NightCache {
    this.flush();
    let c = this.nights.get(night);
    if (!c) {
      c = { rows: new Map(), expires: new Map(), nextExpiry: Infinity, dirty: new Set(), flagged: new Map(), used: 0 };
      const stored = new Map(this.d.store.nightsBetween(night, night).map((r) => [r.student, r]));
      for (const e of this.resolveEntries(night, null)) {
        const s = stored.get(e.row.student);
        this.put(c, s ? { ...e.row, revision: s.revision, correctedAt: s.correctedAt, previousState: s.previousState } : e.row, e.validUntil);
      }
      this.nights.set(night, c);
      if (this.nights.size > CACHED_NIGHTS) {
        const oldest = [...this.nights.entries()].filter(([n]) => n !== night).sort((a, b) => a[1].used - b[1].used)[0];
        if (oldest) this.nights.delete(oldest[0]);
      }
    }
    c.used = ++this.uses;
    const now = this.d.now();
    if (now >= c.nextExpiry) {
      let next = Infinity;
      for (const [student, until] of c.expires) {
        if (until <= now) c.dirty.add(student);
        else if (until < next) next = until;
      }
      c.nextExpiry = next;
    }
    if (c.dirty.size > 0) {
      const dirty = [...c.dirty];
      c.dirty.clear();
      const fresh = new Map(this.resolveEntries(night, null, dirty).map((e) => [e.row.student, e]));
      for (const student of dirty) {
        const e = fresh.get(student);
        const old = c.rows.get(student);
        if (!e) {
          if (old) this.drop(c, old);
          continue;
        }
        this.put(c, old ? { ...e.row, revision: old.revision, correctedAt: old.correctedAt, previousState: old.previousState } : e.row, e.validUntil);
      }
    }
    return c;
  }

  private drop(c: NightCache, row: NightRow): void {
    c.rows.delete(row.student);
    c.expires.delete(row.student);
    c.flagged.get(row.building)?.delete(row.student);
  }

  /** Sets a row in a kept night (its expiry and the flagged index follow). */
  private put(c: NightCache, row: NightRow, validUntil: number): void {
    const old = c.rows.get(row.student);
    if (old && old.building !== row.building) c.flagged.get(old.building)?.delete(row.student);
    c.rows.set(row.student, row);
    if (validUntil === Infinity) c.expires.delete(row.student);
    else {
      c.expires.set(row.student, validUntil);
      if (validUntil < c.nextExpiry) c.nextExpiry = validUntil;
    }
    let f = c.flagged.get(row.building);
    if (FLAGGED.has(row.state)) {
      if (!f) c.flagged.set(row.building, (f = new Map()));
      f.set(row.student, row);
    } else f?.delete(row.student);
  }

  /** Some students' rows of a night as kept (resolved now when dirty). */
  private rowsOf(night: string, students: readonly string[]): NightRow[] {
    const c = this.cache(night);
    return students.flatMap((s) => {
      const r = c.rows.get(s);
      return r ? [r] : [];
    });
  }

  /** Live rows with what was reported: a reported night keeps its revision and correction time. */
  night(night: string, scope: Scope): NightRow[] {
    const rows = [...this.cache(night).rows.values()];
    return scope === null ? rows : rows.filter((r) => sees(scope, r.building, r.student));
  }

  /** Re-resolves a reported night of one student; when it changed, a new revision with the time and cause. */
  private refresh(student: string, night: string, cause: string): NightRow | null {
    const old = this.d.store.reportedNight(student, night);
    if (!old) return null;
    const entry = this.resolveEntries(night, null, [student])[0];
    const row = entry?.row;
    if (!entry || !row || (row.state === old.state && row.at === old.at && row.outAgain === old.outAgain)) return null;
    const corrected: NightRow = { ...row, revision: old.revision + 1, correctedAt: this.d.now(), previousState: old.state };
    this.d.store.saveNights([corrected], this.d.now());
    const c = this.nights.get(night);
    if (c) {
      c.dirty.delete(student);
      this.put(c, corrected, entry.validUntil);
    }
    this.metrics.corrections.inc({ cause });
    this.d.log?.info({ student, night, from: old.state, to: corrected.state, cause }, 'attendance night corrected');
    this.d.publish?.({ kind: 'correction', night, building: corrected.building, row: corrected });
    return corrected;
  }

  board(night: string, scope: Scope): TonightBoard {
    const rows = this.night(night, scope);
    const count = (list: readonly NightRow[]) => {
      const c: Record<string, number> = { total: list.length };
      for (const r of list) c[r.state] = (c[r.state] ?? 0) + 1;
      return c;
    };
    const group = <K extends string>(list: readonly NightRow[], key: (r: NightRow) => K) => {
      const m = new Map<K, NightRow[]>();
      for (const r of list) {
        const k = key(r);
        const l = m.get(k);
        if (l) l.push(r);
        else m.set(k, [r]);
      }
      return [...m.entries()].sort(([a], [b]) => byNumber(a, b));
    };
    const kind = this.cal.kind(night);
    return {
      night,
      dayType: kind,
      asOf: this.d.now(),
      buildings: group(rows, (r) => r.building).map(([building, list]) => ({
        building,
        curfew: this.cal.curfew(night, building),
        counts: count(list),
        floors: group(list, (r) => r.floor).map(([floor, fl]) => ({
          floor,
          counts: count(fl),
          rooms: group(fl, (r) => r.room).map(([room, rl]) => ({ room, counts: count(rl), students: rl.sort((a, b) => (a.student < b.student ? -1 : a.student > b.student ? 1 : 0)) })),
        })),
      })),
    };
  }

  /** Late, absent and unknown students of a night (what is reported at curfew + N). */
  exceptions(night: string, scope: Scope): NightRow[] {
    const order: Record<string, number> = { absent: 0, unknown: 1, late: 2 };
    const rows: NightRow[] = [];
    for (const [building, list] of this.cache(night).flagged) {
      if (scope === null || scope.has(building)) for (const r of list.values()) rows.push(r);
      else if (scope.students?.size) for (const r of list.values()) if (scope.students.has(r.student)) rows.push(r);
    }
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return rows.sort((a, b) => order[a.state]! - order[b.state]! || cmp(a.building, b.building) || byNumber(a.room, b.room) || cmp(a.student, b.student));
  }

  /** The curfew report of a building's night: stored, pushed live and to the webhooks. Once per building and night. */
  report(night: string, building: string): NightRow[] | null {
    const now = this.d.now();
    if (!this.d.store.markReported(night, building, now)) return null;
    this.reportedNights.add(night);
    const rows = this.night(night, new Set([building]));
    this.d.store.saveNights(rows, now);
    this.metrics.reports.inc();
    const list = rows.filter((r) => r.state === 'absent' || r.state === 'late' || r.state === 'unknown');
    this.d.publish?.({ kind: 'report', night, building, rows: list });
    const md = reportMarkdown(night, building, list, this.cal.timeZone);
    for (const hook of this.cal.settings.webhooks) {
      if (hook.buildings && !hook.buildings.includes(building)) continue;
      const p = sendWebhook(hook, webhookBody(hook.kind, md), now).then((error) => {
        this.metrics.webhooks.inc({ kind: hook.kind, outcome: error ? 'failed' : 'sent' });
        if (error) this.d.log?.warn({ kind: hook.kind, night, building, error }, 'attendance webhook failed');
      });
      this.pendingSends.add(p);
      void p.finally(() => this.pendingSends.delete(p));
    }
    return rows;
  }

  /** Reports every building whose curfew + N has passed and that was not yet reported (also catches up after downtime). */
  async tick(): Promise<number> {
    this.flush();
    if (this.d.now() - this.recentFrom > (RECENT_DAYS + 1) * DAY) this.loadRecent();
    const now = this.d.now();
    const today = this.cal.nightOf(now);
    let n = 0;
    for (let back = 1; back >= 0; back--) {
      const night = addDays(today, -back);
      const buildings = new Set(this.roster.residents(night).map((r) => r.place.building));
      for (const building of [...buildings].sort()) {
        const curfew = this.cal.curfew(night, building);
        const due = curfew === null ? null : curfew + this.cal.settings.reportDelayMinutes * 60_000;
        if (due === null || now < due || now - due > CATCH_UP_MS) continue;
        if (this.d.store.isReported(night, building)) continue;
        if (this.report(night, building)) n++;
      }
    }
    // Tonight's rows are brought up to date here (at curfew every pending row resolves again), not by the first reader.
    if (this.roster.students.size > 0) this.cache(today);
    await Promise.allSettled([...this.pendingSends]);
    return n;
  }

  // ---- leave ----------------------------------------------------------------------------------------------------

  requestLeave(req: { student: string; from: string; to: string; reason: string; approve?: boolean }, actor: string, scope: Scope): Leave {
    if (!isDate(req.from) || !isDate(req.to)) throw new HubError('validation_failed', 'from and to must be dates (YYYY-MM-DD)');
    if (req.to < req.from) throw new HubError('validation_failed', 'a leave cannot end before it starts');
    if (daysBetween(req.from, req.to) > 366) throw new HubError('validation_failed', 'a leave spans at most a year');
    this.assertStudentInScope(req.student, scope, req.from);
    const l = this.d.store.addLeave({ student: req.student, from: req.from, to: req.to, reason: req.reason, status: req.approve ? 'approved' : 'requested', by: actor, now: this.d.now() });
    this.d.audit.record(actor, req.approve ? 'attendance.leave_approve' : 'attendance.leave_request', req.student, { leave: l.id, from: l.from, to: l.to, reason: l.reason }, this.d.now());
    if (l.status === 'approved') this.refreshLeave(l);
    return l;
  }

  decideLeave(id: number, action: 'approve' | 'reject' | 'revoke', actor: string, scope: Scope): Leave {
    const l = this.d.store.getLeave(id);
    if (!l) throw new HubError('not_found', `leave ${id}`);
    this.assertStudentInScope(l.student, scope, l.from);
    const allowed: Record<typeof action, Leave['status'][]> = { approve: ['requested'], reject: ['requested'], revoke: ['approved', 'requested'] };
    if (!allowed[action].includes(l.status)) throw new HubError('leave_state', `leave ${id} is ${l.status}; cannot ${action} it`);
    const status: Leave['status'] = action === 'approve' ? 'approved' : action === 'reject' ? 'rejected' : 'revoked';
    const out = this.d.store.decideLeave(id, status, actor, this.d.now());
    this.d.audit.record(actor, `attendance.leave_${action}`, l.student, { leave: id, from: l.from, to: l.to, before: l.status, after: status }, this.d.now());
    if (l.status === 'approved' || status === 'approved') this.refreshLeave(out);
    return out;
  }

  private refreshLeave(l: Leave): void {
    for (const [night, c] of this.nights) if (night >= l.from && night <= l.to) c.dirty.add(l.student);
    const today = this.cal.nightOf(this.d.now());
    for (let n = l.from; n <= l.to && n <= today; n = addDays(n, 1)) {
      const corrected = this.refresh(l.student, n, 'leave');
      if (!corrected && n === today && this.d.publish) {
        const row = this.rowsOf(n, [l.student])[0];
        if (row) this.d.publish({ kind: 'state', night: n, building: row.building, row });
      }
    }
  }

  leaves(scope: Scope, student?: string): Leave[] {
    const list = student ? this.d.store.leavesOf(student) : this.d.store.leavesFrom(addDays(this.cal.nightOf(this.d.now()), -30));
    return list.filter((l) => this.inScope(l.student, scope, l.from));
  }

  // ---- history and summaries ------------------------------------------------------------------------------------

  /** A student may be seen when they lived in a visible building on the night in question, or live there now. */
  inScope(student: string, scope: Scope, night?: string): boolean {
    if (scope === null || scope.students?.has(student)) return true;
    const places = [this.roster.current(student), night ? this.roster.placementOn(student, night) : null];
    return places.some((p) => p !== null && scope.has(p.building));
  }

  private assertStudentInScope(student: string, scope: Scope, night: string): void {
    if (!this.roster.students.has(student)) throw new HubError('not_found', `student ${student}`);
    if (!this.inScope(student, scope, night)) throw new HubError('not_found', `student ${student}`);
  }

  history(student: string, from: string, to: string, scope: Scope): { student: { id: string; name: string; building: string | null; floor: string | null; room: string | null; exempt: boolean }; nights: NightRow[] } {
    this.flush();
    const s = this.roster.students.get(student);
    if (!s || !this.inScope(student, scope)) throw new HubError('not_found', `student ${student}`);
    const today = this.cal.nightOf(this.d.now());
    const nights = this.d.store.nightsOf(student, from, to).filter((r) => sees(scope, r.building, r.student));
    // Tonight (not reported yet) leads the list.
    if (today >= from && today <= to && !nights.some((r) => r.night === today)) {
      const row = this.resolve(today, scope, [student])[0];
      if (row) nights.unshift(row);
    }
    const cur = this.roster.current(student);
    return { student: { id: s.id, name: s.name, building: cur?.building ?? null, floor: cur?.floor ?? null, room: cur?.room ?? null, exempt: s.exempt }, nights };
  }

  /** Reported nights per building between two dates, with the late+absent rate per week (weeks start on Monday). */
  summary(from: string, to: string, period: 'week' | 'semester', scope: Scope): Summary {
    this.flush();
    const rows = this.d.store.nightsBetween(from, to).filter((r) => sees(scope, r.building, r.student));
    const byBuilding = new Map<string, { counts: Record<string, number>; weeks: Map<string, { nights: number; late: number; absent: number }> }>();
    for (const r of rows) {
      let b = byBuilding.get(r.building);
      if (!b) byBuilding.set(r.building, (b = { counts: {}, weeks: new Map() }));
      b.counts[r.state] = (b.counts[r.state] ?? 0) + 1;
      b.counts.total = (b.counts.total ?? 0) + 1;
      const week = addDays(r.night, -((weekday(r.night) + 6) % 7));
      const w = b.weeks.get(week) ?? { nights: 0, late: 0, absent: 0 };
      if (r.state !== 'exempt' && r.state !== 'pending') w.nights++;
      if (r.state === 'late') w.late++;
      if (r.state === 'absent') w.absent++;
      b.weeks.set(week, w);
    }
    return {
      from,
      to,
      period,
      buildings: [...byBuilding.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([building, b]) => ({
          building,
          counts: b.counts,
          trend: [...b.weeks.entries()]
            .sort(([a], [c]) => a.localeCompare(c))
            .map(([week, w]) => ({ week, ...w, rate: w.nights ? Math.round(((w.late + w.absent) / w.nights) * 10_000) / 10_000 : 0 })),
        })),
    };
  }

  /** The semester containing a night (or the 20 weeks up to it when no semester is configured). */
  semesterOf(night: string): { from: string; to: string } {
    const s = this.cal.settings.semesters.find((r) => r.from <= night && night <= r.to);
    return s ? { from: s.from, to: s.to } : { from: addDays(night, -140), to: night };
  }
}

export const STATE_ORDER: readonly NightStateName[] = ['absent', 'unknown', 'late', 'leave', 'pending', 'in', 'exempt'];
