import { median, mad } from './stats.ts';
import type { HourlySeries } from './series.ts';

/**
 * The reference detector the README of the labelled data describes, kept as the baseline to beat:
 * a robust (modified) z-score per hour of the week over the previous 28 days. For hour t the four
 * values at t−7d, t−14d, t−21d, t−28d give a median m and MAD; z = 0.6745 (x − m) / MAD and the hour
 * is flagged when |z| > threshold (3.5, Iglewicz & Hoaglin). Needs at least 3 of the 4 past values;
 * a MAD of 0 flags any value different from the median.
 */
export function robustZFlags(series: HourlySeries, threshold = 3.5): boolean[] {
  const v = series.values;
  const out = new Array<boolean>(v.length).fill(false);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x === null || x === undefined) continue;
    const past: number[] = [];
    for (let w = 1; w <= 4; w++) {
      const p = v[i - w * 168];
      if (p !== null && p !== undefined) past.push(p);
    }
    if (past.length < 3) continue;
    const m = median(past);
    const d = mad(past, m);
    if (d === 0) out[i] = x !== m;
    else out[i] = Math.abs((0.6745 * (x - m)) / d) > threshold;
  }
  return out;
}
