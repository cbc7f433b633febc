import { describe, expect, it } from 'vitest';
import { flatReadings, nightBaseLoad, nightFlowLeak, spikes } from '../../src/energy/anomalies.ts';
import { buildBaseline } from '../../src/energy/baselines.ts';
import { HOUR, MIN15, localTime } from '../../src/energy/time.ts';

const OFF = 8;
const night = { from: 23 * 60, to: 5 * 60 };
const cal = { holidays: [], vacations: [] };
const start = localTime('2026-11-02', 0, OFF); // a Monday

/** 15-minute buckets over `days` days from a function of (local hour, day index). */
function series(days: number, f: (hour: number, day: number) => number): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < days * 96; i++) out.set(start + i * MIN15, f((i % 96) / 4, Math.floor(i / 96)));
  return out;
}
const office = (h: number) => (h >= 8 && h < 18 ? 30 : 2); // kWh per quarter: 120 kW by day, 8 kW at night

describe('night base load in an empty teaching building', () => {
  it('fires with its numbers when the night draw stays high', () => {
    const s = series(2, (h, d) => ((d === 0 && h >= 23) || (d === 1 && h < 5) ? 10 : office(h)));
    const alerts = nightBaseLoad({ meter: 'pm-teach-a', building: 'Teaching A', buckets: s, night, utcOffsetHours: OFF, thresholdKw: 15 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.numbers).toMatchObject({ thresholdKw: 15, hours: 6 });
    expect(alerts[0]!.numbers.averageKw).toBeGreaterThan(15);
    expect(alerts[0]!.message).toMatch(/Teaching A drew .* kW on average .* night of 2026-11-02 .* threshold 15 kW/);
  });
  it('stays quiet on a normal week', () => {
    expect(nightBaseLoad({ meter: 'pm', building: 'A', buckets: series(7, office), night, utcOffsetHours: OFF, thresholdKw: 15 })).toEqual([]);
  });
  it('does not judge a night with missing quarters', () => {
    const s = series(2, () => 10);
    s.delete(localTime('2026-11-03', 60, OFF));
    expect(nightBaseLoad({ meter: 'pm', building: 'A', buckets: s, night, utcOffsetHours: OFF, thresholdKw: 15 }).map((a) => a.from)).not.toContain(localTime('2026-11-02', 23 * 60, OFF));
  });
});

describe('continuous minimum night flow (leak)', () => {
  const dorm = (h: number) => (h >= 6 && h < 9) || (h >= 20 && h < 23) ? 0.8 : h >= 23 || h < 5 ? (Math.round(h * 4) % 3 === 0 ? 0.05 : 0) : 0.2;
  it('fires when the flow never stops all night', () => {
    const s = series(3, (h, d) => dorm(h) + (d >= 1 ? 0.03 : 0)); // +0.12 m³/h burst pipe from day 2
    const alerts = nightFlowLeak({ meter: 'wm-dorm-1', buckets: s, night, utcOffsetHours: OFF, minFlowM3h: 0.05 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.numbers.minimumFlowM3h).toBeCloseTo(0.12, 5);
    expect(alerts[0]!.message).toMatch(/never dropped below 0\.12 m³\/h for 6 h during the night of 2026-11-03/);
  });
  it('stays quiet when night use comes in bursts', () => {
    expect(nightFlowLeak({ meter: 'wm', buckets: series(7, dorm), night, utcOffsetHours: OFF, minFlowM3h: 0.05 })).toEqual([]);
  });
});

describe('spikes against the baseline', () => {
  const history = series(28, office);
  const baseline = buildBaseline(history, cal, OFF);
  const later = (f: (h: number) => number) => {
    const m = new Map<number, number>();
    for (let i = 0; i < 96; i++) m.set(start + 28 * 96 * MIN15 + i * MIN15, f((i % 96) / 4));
    return m;
  };
  it('fires on quarters far above the usual for that day and time, merged, with the numbers', () => {
    const s = later((h) => (h === 3 || h === 3.25 ? 20 : office(h)));
    const alerts = spikes({ meter: 'pm', unit: 'kWh', buckets: s, baseline, factor: 3, minimum: 1 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.to - alerts[0]!.from).toBe(2 * MIN15);
    expect(alerts[0]!.numbers).toMatchObject({ amount: 40, expected: 4, peak: 20, factor: 3 });
    expect(alerts[0]!.message).toMatch(/40 kWh used .* against 4 kWh usual .* \(10×, alert above 3×\)/);
  });
  it('stays quiet on a normal day, and on the daytime peak that is normal', () => {
    expect(spikes({ meter: 'pm', unit: 'kWh', buckets: later(office), baseline, factor: 3, minimum: 1 })).toEqual([]);
  });
});

describe('stuck and zero meters', () => {
  const baseline = buildBaseline(series(28, office), cal, OFF);
  const readings = (hours: number, f: (i: number) => number) => Array.from({ length: hours * 4 + 1 }, (_, i) => ({ ts: start + 28 * 96 * MIN15 + 8 * HOUR + i * MIN15, value: f(i) }));
  it('stuck: the same register for hours while use is expected', () => {
    const alerts = flatReadings({ rule: 'stuck', meter: 'pm', unit: 'kWh', readings: readings(8, () => 4321), hours: 6, baseline, minimumExpected: 1 });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.numbers).toMatchObject({ hours: 8, readings: 33, register: 4321, limitHours: 6 });
    expect(alerts[0]!.message).toMatch(/register stayed at 4321 for 8 h .* about \d+(\.\d+)? kWh would normally be used/);
  });
  it('zero: instantaneous 0 for hours while use is expected', () => {
    const alerts = flatReadings({ rule: 'zero', meter: 'pm', unit: 'kWh', readings: readings(7, () => 0), hours: 6, baseline, minimumExpected: 1 });
    expect(alerts.map((a) => a.rule)).toEqual(['zero']);
  });
  it('quiet on a register that moves, and on a flat night when nothing is expected', () => {
    expect(flatReadings({ rule: 'stuck', meter: 'pm', unit: 'kWh', readings: readings(8, (i) => 4321 + i * 30), hours: 6, baseline, minimumExpected: 1 })).toEqual([]);
    const quietBaseline = buildBaseline(series(28, () => 0), cal, OFF);
    expect(flatReadings({ rule: 'stuck', meter: 'pm', unit: 'kWh', readings: readings(8, () => 4321), hours: 6, baseline: quietBaseline, minimumExpected: 1 })).toEqual([]);
  });
});
