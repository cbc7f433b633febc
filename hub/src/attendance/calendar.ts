import Value from 'typebox/value';
import { AttendanceSettingsSchema, compile, type AttendanceSettings, type DayType } from '@warden/contract';
import { addDays, isDate, isTimeZone, localDate, localInstant, parseClock, weekday } from './tz.ts';

const settingsV = compile(AttendanceSettingsSchema);

/** Settings with every default filled in; throws with the reasons when they are not valid. */
export function parseSettings(input: unknown): AttendanceSettings {
  const value = Value.Default(AttendanceSettingsSchema, structuredClone(input ?? {})) as unknown;
  if (!settingsV.check(value)) throw new Error(`invalid attendance settings: ${settingsV.explain(value)}`);
  const problems: string[] = [];
  if (!isTimeZone(value.timeZone)) problems.push(`unknown time zone ${value.timeZone}`);
  for (const key of ['semesters', 'holidays', 'vacations', 'examWeeks'] as const) {
    value[key].forEach((r, i) => {
      if (!isDate(r.from) || !isDate(r.to)) problems.push(`${key}[${i}]: not a calendar date`);
      else if (r.to < r.from) problems.push(`${key}[${i}]: ends before it starts`);
    });
  }
  if (problems.length) throw new Error(`invalid attendance settings: ${problems.join('; ')}`);
  return value;
}

export type NightKind = DayType | 'vacation';

const within = (date: string, ranges: ReadonlyArray<{ from: string; to: string }>) => ranges.some((r) => r.from <= date && date <= r.to);

/** The campus calendar: which kind of night a date's evening is, and each building's curfew that night. */
export class AttendanceCalendar {
  readonly dayStartMin: number;
  constructor(readonly settings: AttendanceSettings) {
    this.dayStartMin = parseClock(settings.dayStart)!;
  }

  get timeZone(): string {
    return this.settings.timeZone;
  }

  /**
   * Vacation (or outside every semester, when semesters are listed): no curfew. Then holiday, exam week,
   * weekend (Friday and Saturday evenings), weekday.
   */
  kind(night: string): NightKind {
    const s = this.settings;
    if (within(night, s.vacations)) return 'vacation';
    if (s.semesters.length > 0 && !within(night, s.semesters)) return 'vacation';
    if (within(night, s.holidays)) return 'holiday';
    if (within(night, s.examWeeks)) return 'exam';
    const wd = weekday(night);
    return wd === 5 || wd === 6 ? 'weekend' : 'weekday';
  }

  /** Curfew instant of a building on a night, null on a vacation night. */
  curfew(night: string, building: string): number | null {
    const kind = this.kind(night);
    if (kind === 'vacation') return null;
    const clock = this.settings.buildings[building]?.[kind] ?? this.settings.curfew[kind];
    let min = parseClock(clock)!;
    // A curfew before the night's start (e.g. 00:30) is after midnight.
    if (min < this.dayStartMin) min += 1440;
    return localInstant(night, min, this.timeZone);
  }

  /** The night an instant belongs to: the local date of (ts - dayStart), so 00:40 belongs to the evening before. */
  nightOf(ts: number): string {
    const d = localDate(ts, this.timeZone);
    return ts < localInstant(d, this.dayStartMin, this.timeZone) ? addDays(d, -1) : d;
  }

  /** [start, end) of a night. */
  bounds(night: string): { start: number; end: number } {
    return { start: localInstant(night, this.dayStartMin, this.timeZone), end: localInstant(addDays(night, 1), this.dayStartMin, this.timeZone) };
  }
}
