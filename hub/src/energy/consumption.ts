/**
 * Consumption from cumulative registers. A meter reports a register that only grows; consumption is
 * the difference between readings. Three things break the naive difference and each is handled
 * explicitly, never by inventing consumption:
 * - rollover: a register with a known maximum wraps to 0; the wrap is added back and flagged;
 * - replacement: a swapped meter starts again from its own reading; the old meter's final and the new
 *   one's initial register (from config or a `meter.replaced` record) split the interval, and it is flagged;
 * - gaps: readings further apart than `maxGapMs` say how much was used but not when; the whole delta is
 *   attributed to the reading that ends the gap and flagged `gap`, instead of being spread as a guess.
 * A decrease no rule explains (a reset, a misread) yields no consumption and a problem to show.
 */
export interface Reading {
  ts: number;
  value: number;
}

export interface Replacement {
  at: number;
  oldFinal: number;
  newInitial: number;
}

export type IntervalFlag = 'rollover' | 'replacement' | 'gap';

export interface Interval {
  from: number;
  to: number;
  amount: number;
  flags: IntervalFlag[];
}

export interface RegisterProblem {
  from: number;
  to: number;
  message: string;
}

export interface RegisterOptions {
  maxGapMs: number;
  /** The register wraps to 0 after this value. */
  rolloverAt?: number | undefined;
  replacements?: readonly Replacement[];
}

export function intervalsFromRegister(readings: readonly Reading[], opts: RegisterOptions): { intervals: Interval[]; problems: RegisterProblem[] } {
  const sorted = [...readings].sort((a, b) => a.ts - b.ts);
  const intervals: Interval[] = [];
  const problems: RegisterProblem[] = [];
  const replacements = [...(opts.replacements ?? [])].sort((a, b) => a.at - b.at);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.ts === a.ts) continue;
    const flags: IntervalFlag[] = [];
    let amount: number;
    const swap = replacements.find((r) => r.at > a.ts && r.at <= b.ts);
    if (swap) {
      const before = swap.oldFinal - a.value;
      const after = b.value - swap.newInitial;
      if (before < 0 || after < 0) {
        problems.push({ from: a.ts, to: b.ts, message: `meter replacement does not fit the readings: old meter ${a.value} → final ${swap.oldFinal}, new meter initial ${swap.newInitial} → ${b.value}` });
        continue;
      }
      amount = before + after;
      flags.push('replacement');
    } else {
      amount = b.value - a.value;
      if (amount < 0) {
        // A wrap leaves the register low after being near its top; anything else is unexplained.
        if (opts.rolloverAt !== undefined && a.value > opts.rolloverAt / 2 && b.value < opts.rolloverAt / 2) {
          amount = opts.rolloverAt - a.value + b.value;
          flags.push('rollover');
        } else {
          problems.push({ from: a.ts, to: b.ts, message: `register went back from ${a.value} to ${b.value} with no rollover or replacement to explain it; no consumption counted` });
          continue;
        }
      }
    }
    if (b.ts - a.ts > opts.maxGapMs) flags.push('gap');
    intervals.push({ from: a.ts, to: b.ts, amount, flags });
  }
  return { intervals, problems };
}

export interface Bucket {
  start: number;
  amount: number;
  flags: IntervalFlag[];
}

/**
 * Puts intervals into fixed buckets (bucketOf gives a timestamp's bucket start). A normal interval is
 * split across the buckets it spans in proportion to time; a gap interval goes wholly to the bucket of
 * its end, flagged, because when inside the gap it was used is unknown.
 */
export function bucketize(intervals: readonly Interval[], bucketOf: (ts: number) => number, next: (start: number) => number): Bucket[] {
  const out = new Map<number, Bucket>();
  const add = (start: number, amount: number, flags: readonly IntervalFlag[]): void => {
    const b = out.get(start) ?? { start, amount: 0, flags: [] };
    b.amount += amount;
    for (const f of flags) if (!b.flags.includes(f)) b.flags.push(f);
    out.set(start, b);
  };
  for (const iv of intervals) {
    // The end instant belongs to the bucket of the reading taken at it: a reading at 10:15:00 closes the 10:00 bucket.
    const endBucket = bucketOf(iv.to - 1);
    if (iv.flags.includes('gap')) {
      add(endBucket, iv.amount, iv.flags);
      continue;
    }
    const span = iv.to - iv.from;
    let t = iv.from;
    while (t < iv.to) {
      const start = bucketOf(t);
      const end = Math.min(next(start), iv.to);
      add(start, (iv.amount * (end - t)) / span, iv.flags);
      t = end;
    }
  }
  return [...out.values()].sort((a, b) => a.start - b.start);
}
