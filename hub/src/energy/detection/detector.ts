import { ENERGY_ANOMALY_KINDS, type EnergyAnomalyKind } from '@warden/contract';
import { dayKey, dayKindOf, localDayIndex, localHourOf, type DayClass, type EnergyCalendar } from './calendar.ts';
import { explain, type AlertText } from './messages.ts';
import { HOUR_MS, type HourlySeries } from './series.ts';
import { MAD_TO_SIGMA, mad, median, quantile, round2 } from './stats.ts';

/**
 * What the detector can say about an hour of consumption.
 * - spike / drop: far above / below what the same kind of day used at that hour (a one-hour dip
 *   between normal neighbours is a drop too);
 * - dropout: (almost) nothing measured while use is expected;
 * - flat: the same value hour after hour while the baseline expects it to move (a frozen meter);
 * - missing: no reading at all;
 * - night_base_load (electricity): an hour in this building's night drawing more than half way from
 *   its own base load to its own daytime use (gas heating at night and water are judged otherwise);
 * - leak: water that never stops at night, night after night.
 */
export type AlertKind = EnergyAnomalyKind;
export const ALERT_KINDS: readonly AlertKind[] = ENERGY_ANOMALY_KINDS;

export type Medium = 'power' | 'water' | 'gas';

/** Facilities said "not an anomaly" for this window (optionally only for one kind). */
export interface Dismissal {
  id?: string;
  from: number;
  to: number;
  kind?: AlertKind;
  /** When it was said; patterns are suppressed from then on for `suppressDays`. Default: `to`. */
  at?: number;
}

export interface DetectorOptions {
  calendar: EnergyCalendar;
  medium?: Medium;
  unit?: string;
  /** How many past days of the same kind give the expectation of an hour. Default 5. */
  sameDays?: number;
  /** How far back to look for them, days. Default 42. */
  lookbackDays?: number;
  /** |z| that opens a spike/drop, and |z| that keeps one open. Defaults 5 and 2.5. */
  z?: number;
  zContinue?: number;
  /** A deviation must also be at least this fraction of the building's usual hourly level. Default 0.1. */
  minRelative?: number;
  /**
   * Days a flagged hour is kept out of the baselines. After that it counts as normal: a lasting change
   * of regime (term starts, a new tenant) becomes the new normal instead of alerting for weeks. Default 3.
   */
  quarantineDays?: number;
  /** Night base load: fraction of the way from base load to daytime use above which a night hour alerts. Default 0.5. */
  nightFraction?: number;
  /** Hours of identical readings that make a flat stretch. Default 4. */
  flatHours?: number;
  /** Hours without a reading that make a missing stretch alert. Default 2. */
  missingHours?: number;
  /** Water leak: consecutive nights whose minimum flow stays above the floor. Default 2. */
  leakNights?: number;
  /** Water leak floor in units per hour; default 5% of the usual daytime hourly use. */
  leakFloor?: number;
  /**
   * Level adjustment: the expectation is scaled by the median ratio actual/expected over the last
   * `levelHours` hours (0 = off), so weather or occupancy that moves every hour together (a cold
   * week for gas heating) shifts the baseline within days. Default 0.
   */
  levelHours?: number;
  /** Cap of the recent residual scale, as a fraction of the hour's expected (or usual) use. Default 0.1. */
  noiseCap?: number;
  /** Compare each weekday with the same weekday (true) instead of all working days. Default false. */
  byWeekday?: boolean;
  dismissed?: readonly Dismissal[];
  /** Days a dismissal suppresses the same pattern (kind, hours of day, kind of day). Default 28. */
  suppressDays?: number;
}

export interface HourVerdict {
  ts: number;
  value: number | null;
  /** Expected consumption and the band outside which an hour is anomalous (null while learning). */
  expected: number | null;
  low: number | null;
  high: number | null;
  z: number | null;
  flag: AlertKind | null;
  /** Facilities marked this hour not anomalous. */
  dismissed: boolean;
}

export interface EnergyAlert {
  kind: AlertKind;
  direction: 'up' | 'down' | null;
  from: number;
  /** Exclusive end (start of the first hour after the alert). */
  to: number;
  hours: number;
  numbers: Record<string, number>;
  text: AlertText;
  /** A dismissal of the same pattern suppresses this alert (kept, but not raised). */
  suppressedBy?: string;
}

export interface Detection {
  hours: HourVerdict[];
  alerts: EnergyAlert[];
}

const DAY_HOURS = 24;

interface Defaults {
  sameDays: number;
  lookbackDays: number;
  z: number;
  zContinue: number;
  minRelative: number;
  quarantineDays: number;
  nightFraction: number;
  flatHours: number;
  missingHours: number;
  leakNights: number;
  suppressDays: number;
  levelHours: number;
  byWeekday: boolean;
  noiseCap: number;
}
const DEFAULTS: Defaults = { noiseCap: 0.1, levelHours: 0, byWeekday: false,  sameDays: 5, lookbackDays: 42, z: 5, zContinue: 2.5, minRelative: 0.1, quarantineDays: 3, nightFraction: 0.5, flatHours: 4, missingHours: 2, leakNights: 2, suppressDays: 28 };

/**
 * Runs the detector over a whole hourly series. Each hour is judged only on what came before it
 * (a one-hour dip or peak is confirmed by the next hour), so running it on a growing series as data
 * arrives gives the same verdicts as running it once at the end.
 */
export function detect(series: HourlySeries, options: DetectorOptions): Detection {
  const run = new DetectorRun(series.start, options);
  run.extend(series.values);
  return run.result();
}

/**
 * The detector as a running state over an hourly series from `start`: `extend` judges new hours only (the per-day
 * baselines of the hours before them are kept), `result` finishes the stretch, leak and grouping passes over the
 * whole series. `detect` is a run extended once; the hub's energy watch keeps one per meter and extends it each hour.
 */
export class DetectorRun {
  private readonly o: Defaults & DetectorOptions;
  private readonly v: Array<number | null> = [];
  private readonly kinds: ReturnType<typeof dayKindOf>[] = [];
  private readonly keys: string[] = [];
  private readonly hourOfDay: number[] = [];
  private readonly dismissedHour: boolean[] = [];
  private readonly expected: Array<number | null> = [];
  private readonly scale: Array<number | null> = [];
  private readonly z: Array<number | null> = [];
  private readonly flag: Array<AlertKind | null> = [];
  private readonly residual: Array<number | null> = [];
  private readonly rawExpected: Array<number | null> = [];
  // Per-day context, refreshed at each local midnight from the hours before it.
  private dayIdx = Number.NaN;
  private level = Number.NaN; // usual hourly level: median of the last 28 days
  private noise = Number.NaN; // robust scale of recent residuals
  private base = Number.NaN; // base load: low quantile of the last year
  private dayUse = Number.NaN; // daytime use: high quantile of the last 8 weeks
  private nightHours = new Set<number>();
  private secondDiffScale = Number.NaN;

  constructor(
    readonly start: number,
    options: DetectorOptions,
  ) {
    this.o = { ...DEFAULTS, ...stripUndefined(options) } as Defaults & DetectorOptions;
  }

  /** Hours judged so far. */
  get length(): number {
    return this.v.length;
  }

  private ts(i: number): number {
    return this.start + i * HOUR_MS;
  }

  /** Judges the next hours (null: not measured). */
  extend(values: ReadonlyArray<number | null>): void {
    const o = this.o;
    const cal = o.calendar;
    for (const x0 of values) {
      const i = this.v.length;
      const t = this.ts(i);
      const k = dayKindOf(t, cal);
      this.v.push(x0 ?? null);
      this.kinds.push(k);
      this.keys.push(o.byWeekday && k.cls === 'workday' ? `${dayKey(k)}/${new Date(t + cal.utcOffsetHours * HOUR_MS).getUTCDay()}` : dayKey(k));
      this.hourOfDay.push(localHourOf(t, cal.utcOffsetHours));
      this.dismissedHour.push((o.dismissed ?? []).some((d) => d.from <= t && t < d.to));
      this.expected.push(null);
      this.scale.push(null);
      this.z.push(null);
      this.flag.push(null);
      this.residual.push(null);
      this.rawExpected.push(null);
      this.judge(i);
    }
  }

  private refreshDay(i: number): void {
    const { v, flag, residual, hourOfDay } = this;
    const cal = this.o.calendar;
    const recent: number[] = [];
    for (let j = Math.max(0, i - 28 * DAY_HOURS); j < i; j++) if (v[j] != null && !flag[j]) recent.push(v[j]!);
    this.level = recent.length >= 7 * DAY_HOURS ? median(recent) : recent.length ? median(recent) : Number.NaN;
    const res: number[] = [];
    for (let j = Math.max(0, i - 14 * DAY_HOURS); j < i; j++) if (residual[j] != null && !flag[j]) res.push(Math.abs(residual[j]!));
    this.noise = res.length >= 3 * DAY_HOURS ? MAD_TO_SIGMA * median(res) : Number.NaN;
    const d2: number[] = [];
    for (let j = Math.max(1, i - 14 * DAY_HOURS); j < i - 1; j++) {
      const a = v[j - 1];
      const b = v[j];
      const c = v[j + 1];
      if (a != null && b != null && c != null) d2.push(Math.abs(b - (a + c) / 2));
    }
    this.secondDiffScale = d2.length >= 3 * DAY_HOURS ? MAD_TO_SIGMA * median(d2) : Number.NaN;
    // Base load, daytime use and night hours move slowly: refreshed once a week (on a fixed weekday,
    // so the verdicts do not depend on where the series starts) and every day while still learning.
    const learning = !Number.isFinite(this.base) || this.nightHours.size === 0;
    if (!learning && localDayIndex(this.ts(i), cal.utcOffsetHours) % 7 !== 0) return;
    const year: number[] = [];
    for (let j = Math.max(0, i - 365 * DAY_HOURS); j < i; j++) if (v[j] != null) year.push(v[j]!);
    this.base = year.length >= 14 * DAY_HOURS ? quantile(year, 0.02) : Number.NaN;
    const eight: number[] = [];
    for (let j = Math.max(0, i - 56 * DAY_HOURS); j < i; j++) if (v[j] != null) eight.push(v[j]!);
    this.dayUse = eight.length >= 14 * DAY_HOURS ? quantile(eight, 0.9) : Number.NaN;
    // Night hours: hours of day whose usual use (median over up to a year, so weeks of lights left on
    // do not turn night into day) stays in the lowest quarter of the range from base load to daytime use.
    const base = this.base;
    const dayUse = this.dayUse;
    this.nightHours = new Set();
    if (Number.isFinite(base) && Number.isFinite(dayUse) && dayUse > base) {
      for (let h = 0; h < DAY_HOURS; h++) {
        const at: number[] = [];
        for (let j = i - DAY_HOURS + ((h - hourOfDay[i]! + DAY_HOURS) % DAY_HOURS); j >= Math.max(0, i - 365 * DAY_HOURS); j -= DAY_HOURS) if (v[j] != null) at.push(v[j]!);
        if (at.length >= 14 && median(at) <= base + 0.25 * (dayUse - base)) this.nightHours.add(h);
      }
    }
  }

  private judge(i: number): void {
    const o = this.o;
    const cal = o.calendar;
    const { v, kinds, keys, hourOfDay, dismissedHour, expected, scale, z, flag, residual, rawExpected } = this;
    /** Past hour j may serve as a sample for hour i. */
    const usable = (j: number): boolean => v[j] != null && (!flag[j] || dismissedHour[j]! || i - j > o.quarantineDays * DAY_HOURS);
    const d = localDayIndex(this.ts(i), cal.utcOffsetHours);
    if (d !== this.dayIdx) {
      this.dayIdx = d;
      this.refreshDay(i);
    }
    const level = this.level;
    // Expectation: the same hour on the last `sameDays` days of the same kind.
    const samples: number[] = [];
    for (let back = 1; back <= o.lookbackDays && samples.length < o.sameDays; back++) {
      const j = i - back * DAY_HOURS;
      if (j < 0) break;
      if (keys[j] === keys[i] && usable(j)) samples.push(v[j]!);
    }
    if (samples.length < 2) {
      // A kind of day not seen lately (the first days of a vacation): the same kind up to a year back.
      samples.length = 0;
      for (let back = 1; back <= 400 && samples.length < o.sameDays; back++) {
        const j = i - back * DAY_HOURS;
        if (j < 0) break;
        if (keys[j] === keys[i] && usable(j)) samples.push(v[j]!);
      }
    }
    if (samples.length < 2) {
      // Too little of this kind of day yet (or the kind is new, e.g. the first vacation days): the
      // same hour on days of the same class regardless of term, then on any day of the last week.
      samples.length = 0;
      for (let back = 1; back <= o.lookbackDays && samples.length < o.sameDays; back++) {
        const j = i - back * DAY_HOURS;
        if (j < 0) break;
        if (kinds[j]!.cls === kinds[i]!.cls && usable(j)) samples.push(v[j]!);
      }
    }
    const x = v[i];
    if (samples.length >= 2 && Number.isFinite(level)) {
      let e = median(samples);
      if (o.levelHours > 0) {
        const ratios: number[] = [];
        for (let j = Math.max(0, i - o.levelHours); j < i; j++) if (v[j] != null && rawExpected[j] != null && rawExpected[j]! > 0.1 * level) ratios.push(v[j]! / rawExpected[j]!);
        rawExpected[i] = e;
        if (ratios.length >= o.levelHours / 2) e *= Math.min(3, Math.max(1 / 3, median(ratios)));
      }
      const spread = MAD_TO_SIGMA * mad(samples, e);
      // The recent residual scale is capped relative to the hour's size: a fortnight of anomalies that
      // went unflagged must not widen the band until nothing is ever flagged again.
      const ref = Math.max(level, e);
      const s = Math.max(spread, Number.isFinite(this.noise) ? Math.min(this.noise, o.noiseCap * ref) : 0, 0.02 * ref, 1e-9);
      expected[i] = e;
      scale[i] = s;
      if (x != null) {
        residual[i] = x - e;
        z[i] = (x - e) / s;
      }
    }
    if (dismissedHour[i]) return;
    if (x == null) {
      flag[i] = 'missing';
      return;
    }
    // Night base load, relative to this building's own base and daytime use; not adapted away, and
    // the more specific explanation of a high night hour than a spike.
    const base = this.base;
    const dayUse = this.dayUse;
    if ((o.medium ?? 'power') === 'power' && this.nightHours.has(hourOfDay[i]!) && Number.isFinite(base)) {
      const threshold = base + o.nightFraction * (dayUse - base);
      if (x > threshold && dayUse - base > o.minRelative * level) flag[i] = 'night_base_load';
    }
    const e = expected[i];
    const zi = z[i];
    if (!flag[i] && e != null && zi != null) {
      const minDev = o.minRelative * Math.max(level, e);
      const dev = x - e;
      const prev = i > 0 ? flag[i - 1] : null;
      const continuing = (prev === 'spike' && zi >= o.zContinue) || ((prev === 'drop' || prev === 'dropout') && zi <= -o.zContinue);
      if ((Math.abs(zi) >= o.z && Math.abs(dev) >= minDev) || (continuing && Math.abs(dev) >= minDev / 2)) {
        flag[i] = dev > 0 ? 'spike' : x <= 0.05 * e && e >= 0.2 * level ? 'dropout' : 'drop';
      }
    }
    // A single hour far off both neighbours in the same direction (decided one hour late, when the
    // next hour is in): a dip or a peak, not the edge of a ramp.
    const k = i - 1;
    const sds = this.secondDiffScale;
    if (k >= 1 && !flag[k] && !dismissedHour[k] && Number.isFinite(sds) && v[k - 1] != null && v[k] != null) {
      const up = v[k]! - v[k - 1]!;
      const down = v[k]! - x;
      const step = Math.sign(up) === Math.sign(down) ? Math.sign(up) * Math.min(Math.abs(up), Math.abs(down)) : 0;
      const ek = expected[k];
      const zk = z[k];
      if (ek != null && zk != null && Math.abs(step) >= 6 * Math.max(sds, 0.02 * level) && Math.abs(step) >= o.minRelative * Math.max(level, ek) && Math.sign(zk) === Math.sign(step) && Math.abs(zk) >= 1.5) {
        flag[k] = step > 0 ? 'spike' : 'drop';
        // Neighbours off their expectation the other way are the same glitch (use moved between hours).
        for (const m of [k - 1, i]) {
          const em = expected[m];
          if (em != null && !flag[m] && Math.sign(v[m]! - em) === -Math.sign(step) && Math.abs(v[m]! - em) >= o.minRelative * Math.max(level, em)) flag[m] = flag[k];
        }
      }
    }
  }

  /** The verdicts so far: stretches (flat, missing), leaks, hours with their band, alerts grouped and suppressed. */
  result(): Detection {
    const o = this.o;
    const cal = o.calendar;
    const { v, expected, scale, z, dismissedHour, hourOfDay, kinds } = this;
    const n = v.length;
    const level = this.level;
    // The passes below rewrite flags; the running state keeps its own.
    const flag = [...this.flag];
    flatStretches(v, expected, flag, dismissedHour, o.flatHours, level);
    missingStretches(flag, o.missingHours);
    if (o.medium === 'water') leaks(v, hourOfDay, kinds.map((k) => k.cls), flag, dismissedHour, o, localDays(n, (i) => this.ts(i), cal));

    const hours: HourVerdict[] = [];
    for (let i = 0; i < n; i++) {
      const e = expected[i] ?? null;
      const s = scale[i] ?? null;
      const band = e != null && s != null ? Math.max(o.z * s, o.minRelative * level) : null;
      hours.push({
        ts: this.ts(i),
        value: v[i] ?? null,
        expected: e == null ? null : round2(e),
        low: e != null && band != null ? round2(Math.max(0, e - band)) : null,
        high: e != null && band != null ? round2(e + band) : null,
        z: z[i] == null ? null : round2(z[i]!),
        flag: flag[i] ?? null,
        dismissed: dismissedHour[i]!,
      });
    }
    const alerts = group(hours, { base: this.base, dayUse: this.dayUse, level, nightFraction: o.nightFraction, unit: o.unit ?? (o.medium === 'power' || !o.medium ? 'kWh' : 'm³') });
    suppress(alerts, o.dismissed ?? [], cal, o.suppressDays);
    return { hours, alerts };
  }
}

function stripUndefined<T extends object>(x: T): Partial<T> {
  return Object.fromEntries(Object.entries(x).filter(([, val]) => val !== undefined)) as Partial<T>;
}

function localDays(n: number, ts: (i: number) => number, cal: EnergyCalendar): number[] {
  return Array.from({ length: n }, (_, i) => localDayIndex(ts(i), cal.utcOffsetHours));
}

/**
 * Runs of identical non-zero hourly use for `flatHours`+ hours while the expectation moves: estimated
 * or interpolated data, a frozen converter. (A frozen register gives zero use: a dropout.)
 */
function flatStretches(v: ReadonlyArray<number | null>, expected: ReadonlyArray<number | null>, flag: Array<AlertKind | null>, dismissed: readonly boolean[], flatHours: number, level: number): void {
  let i = 0;
  while (i < v.length) {
    if (v[i] == null || v[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < v.length && v[j + 1] != null && Math.abs(v[j + 1]! - v[i]!) <= 1e-9 * Math.max(1, Math.abs(v[i]!))) j++;
    if (j - i + 1 >= flatHours) {
      const exp = expected.slice(i, j + 1).filter((e): e is number => e != null);
      const moves = exp.length >= flatHours && Math.max(...exp) - Math.min(...exp) >= 0.05 * (Number.isFinite(level) ? level : Math.max(...exp));
      if (moves) for (let k = i; k <= j; k++) if (!dismissed[k] && flag[k] !== 'missing' && flag[k] !== 'dropout') flag[k] = 'flat';
    }
    i = j + 1;
  }
}

/** Single missing hours are not worth an alert; stretches of `missingHours`+ are. */
function missingStretches(flag: Array<AlertKind | null>, missingHours: number): void {
  let i = 0;
  while (i < flag.length) {
    if (flag[i] !== 'missing') {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < flag.length && flag[j + 1] === 'missing') j++;
    if (j - i + 1 < missingHours) for (let k = i; k <= j; k++) flag[k] = null;
    i = j + 1;
  }
}

/**
 * Water: a leak shows as a night minimum that never falls to (near) zero, night after night. Night =
 * local 01:00–05:00. The floor is `leakFloor`, or 5% of the usual daytime hourly use.
 */
function leaks(v: ReadonlyArray<number | null>, hourOfDay: readonly number[], cls: readonly DayClass[], flag: Array<AlertKind | null>, dismissed: readonly boolean[], o: Defaults & DetectorOptions, day: readonly number[]): void {
  const nights = new Map<number, number[]>();
  for (let i = 0; i < v.length; i++) if (hourOfDay[i]! >= 1 && hourOfDay[i]! < 5) nights.set(day[i]!, [...(nights.get(day[i]!) ?? []), i]);
  const daytime: number[] = [];
  for (let i = 0; i < v.length; i++) if (v[i] != null && cls[i] === 'workday' && hourOfDay[i]! >= 9 && hourOfDay[i]! < 17) daytime.push(v[i]!);
  let run: number[][] = [];
  for (const [, idx] of [...nights.entries()].sort((a, b) => a[0] - b[0])) {
    const vals = idx.map((i) => v[i]).filter((x): x is number => x != null);
    const before = daytime.length ? median(daytime) : Number.NaN;
    const floor = o.leakFloor ?? 0.05 * before;
    if (vals.length === idx.length && vals.length > 0 && Number.isFinite(floor) && Math.min(...vals) > floor) {
      run.push(idx);
      if (run.length >= o.leakNights) for (const night of run) for (const i of night) if (!dismissed[i] && flag[i] !== 'missing') flag[i] = 'leak';
    } else run = [];
  }
}

interface Context {
  base: number;
  dayUse: number;
  level: number;
  nightFraction: number;
  unit: string;
}

/** Consecutive hours with the same flag become one alert carrying its numbers and its sentence. */
function group(hours: readonly HourVerdict[], ctx: Context): EnergyAlert[] {
  const out: EnergyAlert[] = [];
  let i = 0;
  while (i < hours.length) {
    const kind = hours[i]!.flag;
    if (!kind) {
      i++;
      continue;
    }
    let j = i;
    // A leak spans its nights: the daytime hours between them do not split it.
    while (j + 1 < hours.length && hours[j + 1]!.flag === kind) j++;
    const span = hours.slice(i, j + 1);
    let actual = 0;
    let exp = 0;
    let known = 0;
    let peakZ = 0;
    let peak = -Infinity;
    let low = Infinity;
    for (const h of span) {
      if (h.value != null) {
        actual += h.value;
        peak = Math.max(peak, h.value);
        low = Math.min(low, h.value);
      }
      if (h.expected != null) {
        exp += h.expected;
        known++;
      }
      if (h.z != null && Math.abs(h.z) > Math.abs(peakZ)) peakZ = h.z;
    }
    const direction = kind === 'spike' || kind === 'night_base_load' || kind === 'leak' ? 'up' : kind === 'drop' || kind === 'dropout' ? 'down' : null;
    const numbers: Record<string, number> = { hours: span.length, actual: round2(actual), expected: round2(exp), peakZ: round2(peakZ) };
    if (span.some((h) => h.value != null)) {
      numbers.highest = round2(peak);
      numbers.lowest = round2(low);
    }
    if (exp > 0) numbers.ratio = round2(actual / exp);
    if (kind === 'night_base_load') {
      numbers.baseLoad = round2(ctx.base);
      numbers.dayUse = round2(ctx.dayUse);
      numbers.threshold = round2(ctx.base + ctx.nightFraction * (ctx.dayUse - ctx.base));
      numbers.average = round2(actual / span.length);
    }
    if (kind === 'flat') numbers.value = hours[i]!.value ?? 0;
    if (kind === 'leak') numbers.minimum = round2(low);
    const from = hours[i]!.ts;
    const to = hours[j]!.ts + HOUR_MS;
    out.push({ kind, direction, from, to, hours: span.length, numbers, text: explain(kind, from, to, numbers, ctx.unit) });
    i = j + 1;
  }
  return out;
}

/**
 * "Not an anomaly" is remembered as a pattern: the same kind of alert, at the same local hours of day,
 * on the same class of day, within `suppressDays` of the dismissal is kept but not raised.
 */
function suppress(alerts: EnergyAlert[], dismissals: readonly Dismissal[], cal: EnergyCalendar, suppressDays: number): void {
  const patterns = dismissals.map((d) => {
    const hoursOfDay = new Set<number>();
    const classes = new Set<DayClass>();
    for (let t = Math.floor(d.from / HOUR_MS) * HOUR_MS; t < d.to; t += HOUR_MS) {
      hoursOfDay.add(localHourOf(t, cal.utcOffsetHours));
      classes.add(dayKindOf(t, cal).cls);
    }
    return { d, hoursOfDay, classes, at: d.at ?? d.to };
  });
  for (const a of alerts) {
    for (const p of patterns) {
      if (p.d.kind && p.d.kind !== a.kind) continue;
      if (a.from < p.at || a.from > p.at + suppressDays * 86_400_000) continue;
      let all = true;
      for (let t = a.from; t < a.to && all; t += HOUR_MS) if (!p.hoursOfDay.has(localHourOf(t, cal.utcOffsetHours)) || !p.classes.has(dayKindOf(t, cal).cls)) all = false;
      if (all) {
        a.suppressedBy = p.d.id ?? `${p.d.from}-${p.d.to}`;
        break;
      }
    }
  }
}

/** Hour flags as booleans (for scoring): every flagged hour that is not suppressed. */
export function flaggedHours(d: Detection): boolean[] {
  const out = d.hours.map((h) => h.flag !== null);
  for (const a of d.alerts) {
    if (!a.suppressedBy) continue;
    for (let i = 0; i < d.hours.length; i++) if (d.hours[i]!.ts >= a.from && d.hours[i]!.ts < a.to) out[i] = false;
  }
  return out;
}
