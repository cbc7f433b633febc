import type { SchedulePeriod, SchedulePlan, Weekday, WeeklySchedule as WeeklyScheduleConfig } from '@warden/contract';
import { WEEKDAYS } from '../api/values.ts';
import { periodsText } from './energy.ts';

/*
 * Pure logic of the schedule editor: a day's periods as one line of text (the same text the plan table shows,
 * e.g. `07:00–12:00, 13:00–22:00 80%`) and back, and the plan sent to the hub.
 */

const HHMM = '([01][0-9]|2[0-3]):[0-5][0-9]|24:00';
const PERIOD = new RegExp(`^(${HHMM})\\s*[-–]\\s*(${HHMM})(?:\\s+(\\d{1,3})\\s*%)?$`);

export type ParsedDay = { ok: true; periods: SchedulePeriod[] } | { ok: false; error: string };

/** `07:00-12:00, 13:00–22:00 80%` → periods; empty or `–` → none. Errors name the part that is wrong. */
export function parsePeriods(text: string): ParsedDay {
  const t = text.trim();
  if (t === '' || t === '–' || t === '-') return { ok: true, periods: [] };
  const periods: SchedulePeriod[] = [];
  for (const part of t.split(/[,，;]/).map((x) => x.trim()).filter(Boolean)) {
    const m = PERIOD.exec(part);
    if (!m) return { ok: false, error: part };
    const from = m[1]!;
    const to = m[3]!;
    const level = m[5] === undefined ? undefined : Number(m[5]);
    if (from >= to || (level !== undefined && level > 100)) return { ok: false, error: part };
    periods.push(level === undefined || level === 100 ? { from, to } : { from, to, level });
  }
  const sorted = [...periods].sort((a, b) => a.from.localeCompare(b.from));
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.from < sorted[i - 1]!.to) return { ok: false, error: `${sorted[i - 1]!.from}–${sorted[i - 1]!.to} / ${sorted[i]!.from}–${sorted[i]!.to}` };
  return { ok: true, periods: sorted };
}

export type WeekText = Record<Weekday, string>;

export function weekText(plan: Partial<Record<Weekday, SchedulePeriod[]>> | undefined): WeekText {
  return Object.fromEntries(WEEKDAYS.map((d) => [d, plan?.[d]?.length ? periodsText(plan[d]) : ''])) as WeekText;
}

/**
 * The plan to send: the schedule's current plan with its term (and vacation, when it has one) replaced by the
 * edited text. Returns the days that do not parse instead, so the editor can mark them.
 */
export function editedPlan(s: WeeklyScheduleConfig, term: WeekText, vacation: WeekText | null): { ok: true; plan: SchedulePlan } | { ok: false; bad: string[] } {
  const bad: string[] = [];
  const week = (text: WeekText, name: string): Partial<Record<Weekday, SchedulePeriod[]>> => {
    const out: Partial<Record<Weekday, SchedulePeriod[]>> = {};
    for (const d of WEEKDAYS) {
      const p = parsePeriods(text[d]);
      if (!p.ok) bad.push(`${name}.${d}`);
      else if (p.periods.length) out[d] = p.periods;
    }
    return out;
  };
  const plan: SchedulePlan = { term: week(term, 'term') };
  if (vacation) plan.vacation = week(vacation, 'vacation');
  if (s.holiday) plan.holiday = s.holiday;
  if (s.exceptions) plan.exceptions = s.exceptions;
  return bad.length ? { ok: false, bad } : { ok: true, plan };
}
