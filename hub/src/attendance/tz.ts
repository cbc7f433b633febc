/**
 * Campus-local dates and times through Intl (IANA zone, default Asia/Shanghai), so a zone with daylight saving
 * would also be right. Offsets are cached per hour: a night of 30,000 check-ins calls Intl a handful of times.
 */
const HOUR = 3_600_000;
const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(tz, f);
  }
  return f;
}

const offsetCache = new Map<string, number>();

/** Milliseconds the zone is ahead of UTC at the instant `ts`. */
export function zoneOffset(ts: number, tz: string): number {
  const hour = Math.floor(ts / HOUR);
  const key = `${tz}|${hour}`;
  const hit = offsetCache.get(key);
  if (hit !== undefined) return hit;
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(hour * HOUR))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  const off = asUtc - hour * HOUR;
  if (offsetCache.size > 100_000) offsetCache.clear();
  offsetCache.set(key, off);
  return off;
}

/** Checks an IANA zone name (Intl throws a RangeError for an unknown one). */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** Local calendar date `YYYY-MM-DD` of an instant. */
export function localDate(ts: number, tz: string): string {
  return new Date(ts + zoneOffset(ts, tz)).toISOString().slice(0, 10);
}

/** Local `HH:MM` of an instant. */
export function localClock(ts: number, tz: string): string {
  return new Date(ts + zoneOffset(ts, tz)).toISOString().slice(11, 16);
}

/** The instant of a local date plus minutes after its midnight (minutes may pass 24 h: the next day's early hours). */
export function localInstant(date: string, minutes: number, tz: string): number {
  const naive = Date.parse(`${date}T00:00:00Z`) + minutes * 60_000;
  // Two passes find the offset valid at the resulting instant, also next to a daylight-saving change.
  let ts = naive - zoneOffset(naive, tz);
  ts = naive - zoneOffset(ts, tz);
  return ts;
}

export const DATE_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export function isDate(s: string): boolean {
  return DATE_RE.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;
}

/** `YYYY-MM-DD` plus n days. */
export function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday. */
export function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** Days from a to b (b - a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY);
}

/** `HH:MM` -> minutes; null when malformed. */
export function parseClock(s: string): number | null {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}
