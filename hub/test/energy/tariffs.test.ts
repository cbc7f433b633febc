import { describe, expect, it } from 'vitest';
import type { TieredTariff, TouTariff } from '../../src/energy/config.ts';
import { tieredCost, touCost, touPriceAt } from '../../src/energy/tariffs.ts';
import { MIN15, localTime } from '../../src/energy/time.ts';

const slots = [
  { from: '00:00', to: '08:00', band: 'valley' },
  { from: '08:00', to: '10:30', band: 'flat' },
  { from: '10:30', to: '11:45', band: 'peak' },
  { from: '11:45', to: '18:00', band: 'flat' },
  { from: '18:00', to: '23:00', band: 'peak' },
  { from: '23:00', to: '24:00', band: 'valley' },
] as const;
const tou: TouTariff = {
  kind: 'tou',
  medium: 'power',
  periods: [
    { from: '2026-01-01', to: '2026-06-30', slots: slots.map((s) => ({ ...s })), prices: { peak: 1.2, flat: 0.7, valley: 0.3 } },
    { from: '2026-07-01', to: '2026-12-31', slots: slots.map((s) => ({ ...s })), prices: { peak: 1.5, flat: 0.8, valley: 0.35 } },
  ],
};
const at = (date: string, hhmm: string) => localTime(date, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)), 8);

describe('time-of-use electricity', () => {
  it('slot boundaries on the 15-minute grid (campus time)', () => {
    expect(touPriceAt(tou, at('2026-03-02', '10:15'), 8)).toEqual({ band: 'flat', price: 0.7 });
    expect(touPriceAt(tou, at('2026-03-02', '10:30'), 8)).toEqual({ band: 'peak', price: 1.2 });
    expect(touPriceAt(tou, at('2026-03-02', '11:30'), 8)).toEqual({ band: 'peak', price: 1.2 });
    expect(touPriceAt(tou, at('2026-03-02', '11:45'), 8)).toEqual({ band: 'flat', price: 0.7 });
    expect(touPriceAt(tou, at('2026-03-02', '23:45'), 8)).toEqual({ band: 'valley', price: 0.3 });
  });

  it('costs buckets across slot boundaries: 10:00-12:00 at 4 kWh per quarter hour', () => {
    const buckets: Array<[number, number]> = [];
    for (let t = at('2026-03-02', '10:00'); t < at('2026-03-02', '12:00'); t += MIN15) buckets.push([t, 4]);
    const c = touCost(buckets, tou, 8);
    // 10:00-10:30 flat (2), 10:30-11:45 peak (5), 11:45-12:00 flat (1)
    expect(c.byBand.flat.amount).toBe(12);
    expect(c.byBand.peak.amount).toBe(20);
    expect(c.cost).toBeCloseTo(12 * 0.7 + 20 * 1.2, 10);
    expect(c.unpriced).toBe(0);
  });

  it('picks the validity period of each date; dates outside every period are unpriced, not guessed', () => {
    const c = touCost([[at('2026-06-30', '19:00'), 10], [at('2026-07-01', '19:00'), 10], [at('2027-01-01', '19:00'), 10]], tou, 8);
    expect(c.cost).toBeCloseTo(10 * 1.2 + 10 * 1.5, 10);
    expect(c.amount).toBe(20);
    expect(c.unpriced).toBe(10);
    // local midnight, not UTC midnight, starts the new period: 2026-07-01 00:15 in China is 2026-06-30 16:15 UTC
    expect(touPriceAt(tou, at('2026-07-01', '00:15'), 8)).toEqual({ band: 'valley', price: 0.35 });
  });
});

describe('tiered water and gas', () => {
  const water: TieredTariff = { kind: 'tiered', medium: 'water', tiers: [{ upTo: 10, price: 3 }, { upTo: 20, price: 4 }, { price: 6 }] };
  it('prices each part of the amount in its tier', () => {
    expect(tieredCost(5, water).cost).toBe(15);
    expect(tieredCost(25, water)).toEqual({ cost: 30 + 40 + 30, tiers: [{ upTo: 10, amount: 10, cost: 30 }, { upTo: 20, amount: 10, cost: 40 }, { upTo: null, amount: 5, cost: 30 }] });
    expect(tieredCost(5, water, 8).cost).toBe(2 * 3 + 3 * 4);
  });
});
