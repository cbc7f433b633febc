import type { Calendar } from '../baselines.ts';
import { hhmmToMinutes } from '../config.ts';
import { localDate, localMinute, localWeekday, localTime } from '../time.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** On from `from` to `to` (local HH:MM, `to` exclusive, 24:00 allowed), at `level` % (default 100). */
export interface Period {
  from: string;
  to: string;
  level?: number;
}
export type WeekPlan = Partial<Record<Weekday, Period[]>>;

/**
 * A weekly schedule for lighting or HVAC circuits, tied to the campus calendar: the term plan, a
 * vacation plan for term breaks, a plan for public holidays (default: the Sunday plan of whichever
 * applies), and dated exceptions, which win over everything: an exam evening, or one of China's
 * make-up working days (调休) that runs a weekend date as a given weekday.
 */
export interface WeeklySchedule {
  id: string;
  circuits: string[];
  term: WeekPlan;
  vacation?: WeekPlan;
  holiday?: Period[];
  exceptions?: Array<{ date: string; as?: Weekday; periods?: Period[] }>;
}

export interface ScheduledState {
  on: boolean;
  level: number;
  /** Why, in words: which plan and day decided it. */
  reason: string;
}

function inPeriods(periods: readonly Period[] | undefined, minute: number): Period | undefined {
  return periods?.find((p) => hhmmToMinutes(p.from) <= minute && minute < hhmmToMinutes(p.to));
}

/** The periods that apply on the local date of `ts`, and why. */
export function dayPlan(s: WeeklySchedule, ts: number, calendar: Calendar, utcOffsetHours: number): { periods: Period[]; reason: string } {
  const date = localDate(ts, utcOffsetHours);
  const vacation = calendar.vacations.some((v) => v.from <= date && date <= v.to);
  const plan = vacation && s.vacation ? s.vacation : s.term;
  const planName = vacation && s.vacation ? 'vacation' : 'term';
  const ex = s.exceptions?.find((e) => e.date === date);
  if (ex?.periods) return { periods: ex.periods, reason: `exception ${date}` };
  if (ex?.as) return { periods: plan[ex.as] ?? [], reason: `exception ${date}: runs as ${ex.as} (${planName} plan)` };
  if (calendar.holidays.includes(date)) {
    return s.holiday ? { periods: s.holiday, reason: `holiday ${date}` } : { periods: plan.sun ?? [], reason: `holiday ${date}: sun (${planName} plan)` };
  }
  const wd = WEEKDAYS[localWeekday(ts, utcOffsetHours)]!;
  return { periods: plan[wd] ?? [], reason: `${wd} (${planName} plan)` };
}

export function scheduledState(s: WeeklySchedule, ts: number, calendar: Calendar, utcOffsetHours: number): ScheduledState {
  const { periods, reason } = dayPlan(s, ts, calendar, utcOffsetHours);
  const p = inPeriods(periods, localMinute(ts, utcOffsetHours));
  return p ? { on: true, level: p.level ?? 100, reason: `${reason} ${p.from}-${p.to}` } : { on: false, level: 0, reason: `${reason}: outside its periods` };
}

/** A manual override of one circuit, which lapses at `until` (the schedule resumes by itself). */
export interface Override {
  circuit: string;
  on: boolean;
  level?: number;
  until: number;
  by: string;
}

export function effectiveState(s: WeeklySchedule, circuit: string, overrides: readonly Override[], ts: number, calendar: Calendar, utcOffsetHours: number): ScheduledState & { override?: Override } {
  // The newest live override wins: a second person's change replaces the first.
  const live = overrides.filter((o) => o.circuit === circuit && o.until > ts).at(-1);
  if (live) return { on: live.on, level: live.on ? (live.level ?? 100) : 0, reason: `override by ${live.by} until ${new Date(live.until).toISOString()}`, override: live };
  return scheduledState(s, ts, calendar, utcOffsetHours);
}

/** The instants in [from, to) at which the schedule's state changes, minute resolution, for the command sender. */
export function changes(s: WeeklySchedule, from: number, to: number, calendar: Calendar, utcOffsetHours: number): Array<{ at: number } & ScheduledState> {
  const out: Array<{ at: number } & ScheduledState> = [];
  let prev = scheduledState(s, from, calendar, utcOffsetHours);
  const firstMinute = Math.ceil(from / 60_000) * 60_000;
  for (let t = firstMinute === from ? from + 60_000 : firstMinute; t < to; t += 60_000) {
    const cur = scheduledState(s, t, calendar, utcOffsetHours);
    if (cur.on !== prev.on || cur.level !== prev.level) out.push({ at: t, ...cur });
    prev = cur;
  }
  return out;
}

export { localTime };
