/**
 * The campus calendar the baselines know: which local days are working days, weekends, public holidays
 * (including make-up working days on a weekend, as in China's 调休), and which periods are term or
 * vacation. Pure data; nothing here reads a clock.
 */
export interface EnergyCalendar {
  /** Campus offset from UTC in hours (China: 8). Days and hours of day are local. */
  utcOffsetHours: number;
  /** Local weekdays that are weekend days, 0 = Sunday … 6 = Saturday. Default [0, 6]. */
  weekend?: readonly number[];
  /** Public holidays and closures, YYYY-MM-DD local: treated like the building's Sundays. */
  holidays?: readonly string[];
  /** Weekend dates that are working days (make-up days): treated like working days. */
  workdays?: readonly string[];
  /** Vacation periods (inclusive local dates): a building in vacation is compared with vacation days. */
  vacations?: ReadonlyArray<{ from: string; to: string }>;
}

/**
 * The kind of day a baseline compares like with like: working days with working days, Saturdays with
 * Saturdays, Sundays and holidays together; term and vacation apart.
 */
export type DayClass = 'workday' | 'saturday' | 'sunday';
export interface DayKind {
  date: string;
  cls: DayClass;
  holiday: boolean;
  vacation: boolean;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

export function localDateOf(ts: number, utcOffsetHours: number): string {
  return new Date(ts + utcOffsetHours * HOUR).toISOString().slice(0, 10);
}

/** Local hour of day 0..23. */
export function localHourOf(ts: number, utcOffsetHours: number): number {
  return Math.floor((((ts + utcOffsetHours * HOUR) % DAY) + DAY) % DAY / HOUR);
}

/** Index of the local day (days since 1970-01-01 local): equal for hours of the same local day. */
export function localDayIndex(ts: number, utcOffsetHours: number): number {
  return Math.floor((ts + utcOffsetHours * HOUR) / DAY);
}

export function dayKindOf(ts: number, cal: EnergyCalendar): DayKind {
  const date = localDateOf(ts, cal.utcOffsetHours);
  const wd = new Date(ts + cal.utcOffsetHours * HOUR).getUTCDay();
  const weekend = cal.weekend ?? [0, 6];
  const holiday = cal.holidays?.includes(date) ?? false;
  const makeUp = cal.workdays?.includes(date) ?? false;
  let cls: DayClass;
  if (holiday) cls = 'sunday';
  else if (makeUp || !weekend.includes(wd)) cls = 'workday';
  else cls = wd === 6 ? 'saturday' : 'sunday';
  const vacation = cal.vacations?.some((v) => v.from <= date && date <= v.to) ?? false;
  return { date, cls, holiday, vacation };
}

/** A key grouping comparable days. */
export function dayKey(k: DayKind): string {
  return `${k.cls}/${k.vacation ? 'vacation' : 'term'}`;
}
