import { describe, expect, it } from 'vitest';
import { AttendanceCalendar, parseSettings } from '../../src/attendance/calendar.ts';
import { resolveNight, type Crossing, type NightInput } from '../../src/attendance/resolver.ts';
import { Roster } from '../../src/attendance/roster.ts';
import { addDays, localClock, localDate, localInstant } from '../../src/attendance/tz.ts';

const TZ = 'Asia/Shanghai';
/** Local time on a date, as an instant; minutes past 24 h are the next morning. */
const at = (date: string, hhmm: string, nextDay = false) => {
  const [h, m] = hhmm.split(':').map(Number);
  return localInstant(date, h! * 60 + m! + (nextDay ? 1440 : 0), TZ);
};

const cal = new AttendanceCalendar(
  parseSettings({
    curfew: { weekday: '23:00', weekend: '23:30', holiday: '23:30', exam: '22:30' },
    buildings: { B2: { weekday: '22:30' }, LATE: { weekend: '00:30' } },
    semesters: [{ from: '2026-09-01', to: '2027-01-15' }],
    holidays: [{ from: '2026-10-01', to: '2026-10-03', name: 'National Day' }],
    vacations: [{ from: '2026-10-04', to: '2026-10-07' }],
    examWeeks: [{ from: '2027-01-04', to: '2027-01-10' }],
  }),
);

describe('time zone and calendar', () => {
  it('uses Asia/Shanghai local time through Intl, whatever the machine zone', () => {
    const ts = Date.UTC(2026, 10, 30, 15, 40); // 23:40 in Shanghai
    expect(localDate(ts, TZ)).toBe('2026-11-30');
    expect(localClock(ts, TZ)).toBe('23:40');
    expect(localInstant('2026-11-30', 23 * 60 + 40, TZ)).toBe(ts);
    expect(localClock(Date.UTC(2026, 10, 30, 16, 30), TZ)).toBe('00:30');
  });

  it('tells day types apart: weekday, weekend (Fri/Sat evenings), holiday, exam week, vacation and outside semester', () => {
    expect(cal.kind('2026-11-30')).toBe('weekday'); // Monday
    expect(cal.kind('2026-12-04')).toBe('weekend'); // Friday
    expect(cal.kind('2026-12-05')).toBe('weekend'); // Saturday
    expect(cal.kind('2026-12-06')).toBe('weekday'); // Sunday evening: school tomorrow
    expect(cal.kind('2026-10-02')).toBe('holiday');
    expect(cal.kind('2026-10-05')).toBe('vacation');
    expect(cal.kind('2027-01-05')).toBe('exam');
    expect(cal.kind('2026-08-20')).toBe('vacation');
  });

  it('gives each building its curfew per day type; a curfew after midnight belongs to the evening', () => {
    expect(cal.curfew('2026-11-30', 'B1')).toBe(at('2026-11-30', '23:00'));
    expect(cal.curfew('2026-11-30', 'B2')).toBe(at('2026-11-30', '22:30'));
    expect(cal.curfew('2026-12-04', 'B2')).toBe(at('2026-12-04', '23:30'));
    expect(cal.curfew('2026-12-04', 'LATE')).toBe(at('2026-12-04', '00:30', true));
    expect(cal.curfew('2027-01-05', 'B1')).toBe(at('2027-01-05', '22:30'));
    expect(cal.curfew('2026-10-05', 'B1')).toBeNull();
  });

  it('puts an instant after midnight into the night that started the evening before', () => {
    expect(cal.nightOf(at('2026-11-30', '00:40', true))).toBe('2026-11-30');
    expect(cal.nightOf(at('2026-11-30', '05:59', true))).toBe('2026-11-30');
    expect(cal.nightOf(at('2026-12-01', '06:00'))).toBe('2026-12-01');
    expect(cal.nightOf(at('2026-11-30', '21:00'))).toBe('2026-11-30');
    const b = cal.bounds('2026-11-30');
    expect(b.end - b.start).toBe(86_400_000);
    expect(b.start).toBe(at('2026-11-30', '06:00'));
  });

  it('refuses bad settings with the reason', () => {
    expect(() => parseSettings({ timeZone: 'Mars/Olympus' })).toThrow(/unknown time zone/);
    expect(() => parseSettings({ holidays: [{ from: '2026-10-05', to: '2026-10-01' }] })).toThrow(/ends before it starts/);
    expect(() => parseSettings({ curfew: { weekday: '25:00', weekend: '23:00', holiday: '23:00', exam: '23:00' } })).toThrow(/invalid attendance settings/);
  });
});

const NIGHT = '2026-11-30';
const CURFEW = at(NIGHT, '23:00');
function night(crossings: Array<[string, 'in' | 'out', boolean?]>, extra: Partial<NightInput> = {}) {
  const b = cal.bounds(NIGHT);
  const cs: Crossing[] = crossings.map(([t, direction, next]) => ({ ts: at(NIGHT, t, next), direction }));
  return resolveNight({ curfew: CURFEW, lookbackStart: b.start - 86_400_000, end: b.end, asOf: b.end, crossings: cs, onLeave: false, exempt: false, outages: [], ...extra });
}

describe('night resolver', () => {
  it('in before curfew', () => {
    expect(night([['08:00', 'out'], ['21:10', 'in']])).toMatchObject({ state: 'in', at: at(NIGHT, '21:10'), outAgain: false });
  });

  it('still in when the student stayed in since the night before (no crossing tonight)', () => {
    const r = night([]);
    expect(r.state).toBe('absent');
    const b = cal.bounds(NIGHT);
    expect(resolveNight({ curfew: CURFEW, lookbackStart: b.start - 86_400_000, end: b.end, asOf: b.end, crossings: [{ ts: at(addDays(NIGHT, -1), '22:00'), direction: 'in' }], onLeave: false, exempt: false, outages: [] }).state).toBe('in');
  });

  it('late with the time of the first entry after curfew', () => {
    expect(night([['18:00', 'out'], ['23:25', 'in']])).toMatchObject({ state: 'late', at: at(NIGHT, '23:25') });
  });

  it('crossing midnight: an entry at 00:40 makes the evening before late, not the next night', () => {
    expect(night([['19:00', 'out'], ['00:40', 'in', true]])).toMatchObject({ state: 'late', at: at(NIGHT, '00:40', true) });
  });

  it('absent when no entry comes before the night ends (an entry at 06:10 is the next night)', () => {
    expect(night([['19:00', 'out'], ['06:10', 'in', true]])).toMatchObject({ state: 'absent', at: null });
  });

  it('in-out-in resolves by the last crossing before curfew', () => {
    expect(night([['20:00', 'in'], ['21:00', 'out'], ['22:40', 'in']])).toMatchObject({ state: 'in', at: at(NIGHT, '22:40') });
    // in, then out before curfew and back after it: late
    expect(night([['20:00', 'in'], ['22:50', 'out'], ['23:10', 'in']])).toMatchObject({ state: 'late', at: at(NIGHT, '23:10') });
    // in before curfew, out after it: in, flagged as out again
    expect(night([['20:00', 'in'], ['23:30', 'out']])).toMatchObject({ state: 'in', outAgain: true });
  });

  it('late then out again stays late at the late time and is flagged', () => {
    expect(night([['18:00', 'out'], ['23:20', 'in'], ['23:45', 'out']])).toMatchObject({ state: 'late', at: at(NIGHT, '23:20'), outAgain: true });
  });

  it('duplicate passes collapse into the first', () => {
    const r = night([['18:00', 'out'], ['23:10', 'in'], ['23:10', 'in'], ['23:11', 'in'], ['18:00', 'out']]);
    expect(r).toMatchObject({ state: 'late', at: at(NIGHT, '23:10'), duplicates: 3 });
  });

  it('a device outage makes a missing return unknown, never absent', () => {
    const outage = { from: at(NIGHT, '21:00'), to: at(NIGHT, '22:00'), kind: 'point' as const };
    expect(night([['18:00', 'out']], { outages: [outage] })).toMatchObject({ state: 'unknown', reason: 'point_offline' });
    expect(night([['18:00', 'out']], { outages: [{ from: at(NIGHT, '22:30'), to: null, kind: 'gateway' }] })).toMatchObject({ state: 'unknown', reason: 'gateway_offline' });
    // An outage before the student's last known crossing hides nothing: absent.
    expect(night([['18:00', 'out']], { outages: [{ ...outage, from: at(NIGHT, '15:00'), to: at(NIGHT, '16:00') }] }).state).toBe('absent');
    // A student seen entering is in, outage or not.
    expect(night([['18:00', 'out'], ['22:00', 'in']], { outages: [outage] }).state).toBe('in');
  });

  it('approved leave covers a missing or late return, not a student who is in', () => {
    expect(night([['08:00', 'out']], { onLeave: true })).toMatchObject({ state: 'leave', reason: 'approved_leave' });
    expect(night([['08:00', 'out'], ['23:40', 'in']], { onLeave: true }).state).toBe('leave');
    expect(night([['20:00', 'in']], { onLeave: true }).state).toBe('in');
  });

  it('exempt students and nights without curfew', () => {
    expect(night([], { exempt: true }).state).toBe('exempt');
    expect(night([], { curfew: null })).toMatchObject({ state: 'exempt', reason: 'no_curfew' });
  });

  it('pending before curfew, absent once it passed, late when the entry arrives later (outbox batch)', () => {
    const before = at(NIGHT, '22:00');
    expect(night([['18:00', 'out']], { asOf: before }).state).toBe('pending');
    expect(night([['18:00', 'out']], { asOf: at(NIGHT, '23:30') }).state).toBe('absent');
    // The gateway's outbox delivers an entry made at 22:40 later: the same night resolves to in.
    expect(night([['18:00', 'out'], ['22:40', 'in']], { asOf: at(NIGHT, '02:00', true) }).state).toBe('in');
  });

  it('ignores crossings from the future of asOf and after the night', () => {
    expect(night([['18:00', 'out'], ['23:20', 'in']], { asOf: at(NIGHT, '23:10') }).state).toBe('absent');
  });
});

describe('roster', () => {
  const roster = new Roster(
    [
      { id: 's1', name: 'Li Wei', exempt: false, leftOn: null },
      { id: 's2', name: 'Wang Fang', exempt: false, leftOn: '2026-12-01' },
    ],
    [
      { student: 's1', building: 'B1', floor: '3', room: '301', from: '2026-09-01', to: '2026-11-15' },
      { student: 's1', building: 'B2', floor: '1', room: '105', from: '2026-11-15', to: null },
      { student: 's2', building: 'B1', floor: '3', room: '302', from: '2026-09-01', to: null },
    ],
  );

  it('a student moved mid-semester sleeps in the old room before the move date and the new one from it', () => {
    expect(roster.placementOn('s1', '2026-11-14')).toMatchObject({ building: 'B1', room: '301' });
    expect(roster.placementOn('s1', '2026-11-15')).toMatchObject({ building: 'B2', room: '105' });
    expect(roster.placementOn('s1', '2026-08-31')).toBeNull();
    expect(roster.residents('2026-11-14', new Set(['B1'])).map((r) => r.student.id).sort()).toEqual(['s1', 's2']);
    expect(roster.residents('2026-11-20', new Set(['B1'])).map((r) => r.student.id)).toEqual(['s2']);
  });

  it('a leaver is no longer a resident from the day they left', () => {
    expect(roster.placementOn('s2', '2026-11-30')).not.toBeNull();
    expect(roster.placementOn('s2', '2026-12-01')).toBeNull();
    expect(roster.current('s2')).toBeNull();
  });
});
