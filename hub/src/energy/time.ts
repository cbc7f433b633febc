/** Campus-local calendar arithmetic at a fixed UTC offset (China has one zone and no daylight saving). */
export const MIN15 = 15 * 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export type Step = '15m' | '1h' | '1d' | '1mo';
export const STEPS: readonly Step[] = ['15m', '1h', '1d', '1mo'];

const offsetMs = (utcOffsetHours: number): number => utcOffsetHours * HOUR;

/** Start of the step's bucket containing `ts`; days and months begin at local midnight. */
export function bucketStart(ts: number, step: Step, utcOffsetHours: number): number {
  const off = offsetMs(utcOffsetHours);
  if (step === '15m') return Math.floor(ts / MIN15) * MIN15;
  if (step === '1h') return Math.floor((ts + off) / HOUR) * HOUR - off;
  if (step === '1d') return Math.floor((ts + off) / DAY) * DAY - off;
  const d = new Date(ts + off);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) - off;
}

export function nextBucket(start: number, step: Step, utcOffsetHours: number): number {
  if (step === '15m') return start + MIN15;
  if (step === '1h') return start + HOUR;
  if (step === '1d') return start + DAY;
  const off = offsetMs(utcOffsetHours);
  const d = new Date(start + off);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - off;
}

/** Local calendar date `YYYY-MM-DD`. */
export function localDate(ts: number, utcOffsetHours: number): string {
  return new Date(ts + offsetMs(utcOffsetHours)).toISOString().slice(0, 10);
}

/** Minutes since local midnight. */
export function localMinute(ts: number, utcOffsetHours: number): number {
  const off = offsetMs(utcOffsetHours);
  return Math.floor((((ts + off) % DAY) + DAY) % DAY / 60_000);
}

/** 0 = Sunday … 6 = Saturday, local. */
export function localWeekday(ts: number, utcOffsetHours: number): number {
  return new Date(ts + offsetMs(utcOffsetHours)).getUTCDay();
}

/** The UTC instant of a local date and time, e.g. ('2026-11-28', 23*60). */
export function localTime(date: string, minute: number, utcOffsetHours: number): number {
  return Date.parse(`${date}T00:00:00Z`) + minute * 60_000 - offsetMs(utcOffsetHours);
}
