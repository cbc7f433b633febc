import type { Baseline } from './baselines.ts';
import type { Reading } from './consumption.ts';
import { DAY, HOUR, MIN15, localDate, localTime } from './time.ts';

export type AnomalyRule = 'night_base_load' | 'night_flow_leak' | 'spike' | 'stuck' | 'zero';

/** An energy alert that explains itself: the rule, the window, a sentence with the numbers, and the numbers. */
export interface EnergyAnomaly {
  rule: AnomalyRule;
  meter: string;
  from: number;
  to: number;
  message: string;
  numbers: Record<string, number>;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;
const iso = (ts: number): string => new Date(ts).toISOString();

/** Each local night [from, to) that starts within the series, as UTC instants; a night may cross midnight. */
function nights(first: number, last: number, night: { from: number; to: number }, utcOffsetHours: number): Array<{ from: number; to: number; date: string }> {
  const out: Array<{ from: number; to: number; date: string }> = [];
  for (let t = first - DAY; t <= last; t += DAY) {
    const date = localDate(t, utcOffsetHours);
    const from = localTime(date, night.from, utcOffsetHours);
    const to = night.to > night.from ? localTime(date, night.to, utcOffsetHours) : localTime(date, night.to, utcOffsetHours) + DAY;
    if (from >= first && to <= last + MIN15) out.push({ from, to, date });
  }
  return out;
}

function windowBuckets(buckets: ReadonlyMap<number, number>, from: number, to: number): { values: number[]; expected: number } {
  const values: number[] = [];
  for (let t = from; t < to; t += MIN15) {
    const v = buckets.get(t);
    if (v !== undefined) values.push(v);
  }
  return { values, expected: (to - from) / MIN15 };
}

export interface NightInput {
  meter: string;
  /** 15-minute consumption: bucket start → kWh or m³. */
  buckets: ReadonlyMap<number, number>;
  night: { from: number; to: number };
  utcOffsetHours: number;
}

/**
 * An empty teaching building should draw little at night; a high average means lights, HVAC or
 * equipment left on. Only nights with every quarter hour measured are judged (no invented readings).
 */
export function nightBaseLoad(input: NightInput & { thresholdKw: number; building: string }): EnergyAnomaly[] {
  const keys = [...input.buckets.keys()];
  if (!keys.length) return [];
  const out: EnergyAnomaly[] = [];
  for (const n of nights(Math.min(...keys), Math.max(...keys), input.night, input.utcOffsetHours)) {
    const w = windowBuckets(input.buckets, n.from, n.to);
    if (w.values.length < w.expected) continue;
    const kwh = w.values.reduce((a, b) => a + b, 0);
    const hours = (n.to - n.from) / HOUR;
    const avgKw = kwh / hours;
    const minKw = Math.min(...w.values) * 4;
    if (avgKw <= input.thresholdKw) continue;
    out.push({
      rule: 'night_base_load',
      meter: input.meter,
      from: n.from,
      to: n.to,
      message: `${input.building} drew ${r2(avgKw)} kW on average (never below ${r2(minKw)} kW, ${r2(kwh)} kWh) during the night of ${n.date} while empty; threshold ${input.thresholdKw} kW`,
      numbers: { averageKw: r2(avgKw), minimumKw: r2(minKw), kwh: r2(kwh), thresholdKw: input.thresholdKw, hours },
    });
  }
  return out;
}

/**
 * Water that never stops flowing at night (every quarter hour above the minimum) is a leak: at night
 * real use comes in bursts with quiet quarters between them.
 */
export function nightFlowLeak(input: NightInput & { minFlowM3h: number }): EnergyAnomaly[] {
  const keys = [...input.buckets.keys()];
  if (!keys.length) return [];
  const out: EnergyAnomaly[] = [];
  for (const n of nights(Math.min(...keys), Math.max(...keys), input.night, input.utcOffsetHours)) {
    const w = windowBuckets(input.buckets, n.from, n.to);
    if (w.values.length < w.expected) continue;
    const minFlow = Math.min(...w.values) * 4;
    if (minFlow < input.minFlowM3h) continue;
    const m3 = w.values.reduce((a, b) => a + b, 0);
    const hours = (n.to - n.from) / HOUR;
    out.push({
      rule: 'night_flow_leak',
      meter: input.meter,
      from: n.from,
      to: n.to,
      message: `water flow never dropped below ${r2(minFlow)} m³/h for ${hours} h during the night of ${n.date} (${r2(m3)} m³); a continuous minimum night flow at or above ${input.minFlowM3h} m³/h means a leak`,
      numbers: { minimumFlowM3h: r2(minFlow), m3: r2(m3), thresholdM3h: input.minFlowM3h, hours },
    });
  }
  return out;
}

/** A quarter hour far above what this kind of day usually uses at that time; consecutive ones are one alert. */
export function spikes(input: { meter: string; unit: string; buckets: ReadonlyMap<number, number>; baseline: Baseline; factor: number; minimum: number }): EnergyAnomaly[] {
  const out: EnergyAnomaly[] = [];
  let current: EnergyAnomaly | null = null;
  for (const [t, v] of [...input.buckets.entries()].sort((a, b) => a[0] - b[0])) {
    const e = input.baseline.expected(t);
    const hit = e !== null && v > e * input.factor && v - e >= input.minimum;
    if (!hit) {
      current = null;
      continue;
    }
    if (current && current.to === t) {
      current.to = t + MIN15;
      current.numbers.peak = Math.max(current.numbers.peak!, r2(v));
      current.numbers.amount = r2(current.numbers.amount! + v);
      current.numbers.expected = r2(current.numbers.expected! + e);
      current.message = spikeMessage(current, input.unit, input.factor);
      continue;
    }
    current = { rule: 'spike', meter: input.meter, from: t, to: t + MIN15, message: '', numbers: { peak: r2(v), amount: r2(v), expected: r2(e), factor: input.factor } };
    current.message = spikeMessage(current, input.unit, input.factor);
    out.push(current);
  }
  return out;
}

function spikeMessage(a: EnergyAnomaly, unit: string, factor: number): string {
  const n = a.numbers;
  return `${n.amount} ${unit} used ${iso(a.from)}–${iso(a.to)} against ${n.expected} ${unit} usual for this kind of day and time (${r2(n.amount! / Math.max(n.expected!, 1e-9))}×, alert above ${factor}×); highest quarter hour ${n.peak} ${unit}`;
}

/**
 * Flat readings while use is expected. `stuck`: the register keeps arriving with the same value (a
 * jammed counter, a frozen converter). `zero`: the instantaneous value reads 0 throughout. Both need
 * the baseline to expect at least `minimumExpected` in the window, so a closed building is not flagged.
 */
export function flatReadings(input: {
  rule: 'stuck' | 'zero';
  meter: string;
  unit: string;
  readings: readonly Reading[];
  hours: number;
  baseline: Baseline;
  minimumExpected: number;
}): EnergyAnomaly[] {
  const sorted = [...input.readings].sort((a, b) => a.ts - b.ts);
  const out: EnergyAnomaly[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    const flat = (x: Reading): boolean => (input.rule === 'zero' ? x.value === 0 : x.value === sorted[i]!.value);
    if (!flat(sorted[i]!)) {
      i += 1;
      continue;
    }
    while (j + 1 < sorted.length && flat(sorted[j + 1]!)) j += 1;
    const from = sorted[i]!.ts;
    const to = sorted[j]!.ts;
    const hours = (to - from) / HOUR;
    if (hours >= input.hours) {
      const exp = input.baseline.expectedBetween(from, to);
      if (exp.known > 0 && exp.amount >= input.minimumExpected) {
        const what = input.rule === 'stuck' ? `register stayed at ${sorted[i]!.value}` : 'instantaneous reading stayed at 0';
        out.push({
          rule: input.rule,
          meter: input.meter,
          from,
          to,
          message: `${what} for ${r2(hours)} h (${j - i + 1} readings, ${iso(from)}–${iso(to)}) while about ${r2(exp.amount)} ${input.unit} would normally be used; limit ${input.hours} h`,
          numbers: { hours: r2(hours), readings: j - i + 1, expected: r2(exp.amount), limitHours: input.hours, ...(input.rule === 'stuck' ? { register: sorted[i]!.value } : {}) },
        });
      }
    }
    i = j + 1;
  }
  return out;
}
