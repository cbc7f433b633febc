import type { EnergyConfig } from './config.ts';
import { localDate, localMinute, localWeekday, MIN15 } from './time.ts';

export type WeekKind = 'weekday' | 'weekend' | 'holiday';
export type TermKind = 'term' | 'vacation';
export type Calendar = EnergyConfig['calendar'];

export function dayKind(ts: number, calendar: Calendar, utcOffsetHours: number): { week: WeekKind; term: TermKind } {
  const date = localDate(ts, utcOffsetHours);
  const wd = localWeekday(ts, utcOffsetHours);
  const week: WeekKind = calendar.holidays.includes(date) ? 'holiday' : wd === 0 || wd === 6 ? 'weekend' : 'weekday';
  const term: TermKind = calendar.vacations.some((v) => v.from <= date && date <= v.to) ? 'vacation' : 'term';
  return { week, term };
}

/**
 * A meter's expected 15-minute consumption: the median of past buckets of the same kind of day
 * (weekday/weekend/holiday × term/vacation) and the same quarter hour. Medians, so one past leak does
 * not become normal. A slot with fewer than `minSamples` past days has no expectation (null).
 */
export interface Baseline {
  expected(ts: number): number | null;
  /** Sum of expectations over [from, to), and how many of its quarter hours had one. */
  expectedBetween(from: number, to: number): { amount: number; known: number; slots: number };
}

export function buildBaseline(history: Iterable<readonly [number, number]>, calendar: Calendar, utcOffsetHours: number, minSamples = 3): Baseline {
  const samples = new Map<string, number[]>();
  const key = (ts: number): string => {
    const k = dayKind(ts, calendar, utcOffsetHours);
    return `${k.week}/${k.term}/${Math.floor(localMinute(ts, utcOffsetHours) / 15)}`;
  };
  for (const [ts, v] of history) {
    const k = key(ts);
    let list = samples.get(k);
    if (!list) samples.set(k, (list = []));
    list.push(v);
  }
  const medians = new Map<string, number>();
  for (const [k, list] of samples) {
    if (list.length < minSamples) continue;
    const s = [...list].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    medians.set(k, s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2);
  }
  const expected = (ts: number): number | null => medians.get(key(ts)) ?? null;
  return {
    expected,
    expectedBetween(from, to) {
      let amount = 0;
      let known = 0;
      let slots = 0;
      for (let t = Math.floor(from / MIN15) * MIN15; t < to; t += MIN15) {
        slots += 1;
        const e = expected(t);
        if (e !== null) {
          amount += e;
          known += 1;
        }
      }
      return { amount, known, slots };
    },
  };
}
