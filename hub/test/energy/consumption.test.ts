import { describe, expect, it } from 'vitest';
import { bucketize, intervalsFromRegister } from '../../src/energy/consumption.ts';
import { MIN15, bucketStart, nextBucket } from '../../src/energy/time.ts';

const T0 = Date.parse('2026-11-02T00:00:00Z');
const m = (min: number) => T0 + min * 60_000;
const q = (ts: number) => bucketStart(ts, '15m', 8);
const n = (s: number) => nextBucket(s, '15m', 8);

describe('consumption from cumulative registers', () => {
  it('differences of a growing register', () => {
    const { intervals, problems } = intervalsFromRegister([{ ts: m(0), value: 100 }, { ts: m(15), value: 102.5 }, { ts: m(30), value: 104 }], { maxGapMs: 3_600_000 });
    expect(problems).toEqual([]);
    expect(intervals.map((i) => [i.amount, i.flags])).toEqual([[2.5, []], [1.5, []]]);
  });

  it('rollover: a register wrapping at its maximum adds the wrap back and is flagged', () => {
    const { intervals, problems } = intervalsFromRegister([{ ts: m(0), value: 99_998 }, { ts: m(15), value: 3 }], { maxGapMs: 3_600_000, rolloverAt: 100_000 });
    expect(problems).toEqual([]);
    expect(intervals).toEqual([{ from: m(0), to: m(15), amount: 5, flags: ['rollover'] }]);
  });

  it('a decrease without a known rollover is not consumption, and is reported', () => {
    const { intervals, problems } = intervalsFromRegister([{ ts: m(0), value: 500 }, { ts: m(15), value: 20 }, { ts: m(30), value: 21 }], { maxGapMs: 3_600_000 });
    expect(intervals.map((i) => i.amount)).toEqual([1]);
    expect(problems[0]!.message).toMatch(/went back from 500 to 20/);
    // with a rollover configured, a fall from low in the range is still not a wrap
    const r = intervalsFromRegister([{ ts: m(0), value: 500 }, { ts: m(15), value: 20 }], { maxGapMs: 3_600_000, rolloverAt: 100_000 });
    expect(r.intervals).toEqual([]);
    expect(r.problems).toHaveLength(1);
  });

  it('replacement: old final and new initial split the interval', () => {
    const { intervals } = intervalsFromRegister([{ ts: m(0), value: 8000 }, { ts: m(15), value: 8001 }, { ts: m(30), value: 2.5 }, { ts: m(45), value: 4 }], {
      maxGapMs: 3_600_000,
      replacements: [{ at: m(20), oldFinal: 8001.5, newInitial: 0 }],
    });
    expect(intervals.map((i) => [i.amount, i.flags])).toEqual([[1, []], [3, ['replacement']], [1.5, []]]);
  });

  it('a replacement that contradicts the readings is refused, not guessed', () => {
    const { intervals, problems } = intervalsFromRegister([{ ts: m(0), value: 8000 }, { ts: m(15), value: 2 }], { maxGapMs: 3_600_000, replacements: [{ at: m(5), oldFinal: 7000, newInitial: 0 }] });
    expect(intervals).toEqual([]);
    expect(problems[0]!.message).toMatch(/replacement does not fit/);
  });

  it('gaps: the delta over a gap goes to the bucket that ends it, flagged; nothing is spread into the gap', () => {
    const { intervals } = intervalsFromRegister([{ ts: m(0), value: 10 }, { ts: m(15), value: 11 }, { ts: m(15 + 180), value: 23 }, { ts: m(210), value: 24 }], { maxGapMs: 60 * 60_000 });
    expect(intervals[1]!.flags).toEqual(['gap']);
    const buckets = bucketize(intervals, q, n);
    expect(buckets.map((b) => [(b.start - T0) / MIN15, b.amount, b.flags])).toEqual([
      [0, 1, []],
      [12, 12, ['gap']],
      [13, 1, []],
    ]);
    expect(buckets.reduce((a, b) => a + b.amount, 0)).toBe(14);
  });

  it('a normal interval across a bucket boundary is split in proportion to time', () => {
    const { intervals } = intervalsFromRegister([{ ts: m(10), value: 0 }, { ts: m(20), value: 10 }], { maxGapMs: 3_600_000 });
    const buckets = bucketize(intervals, q, n);
    expect(buckets.map((b) => [(b.start - T0) / MIN15, b.amount])).toEqual([[0, 5], [1, 5]]);
  });
});
