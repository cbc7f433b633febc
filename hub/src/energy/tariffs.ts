import { hhmmToMinutes, type TieredTariff, type TouTariff } from './config.ts';
import { localDate, localMinute } from './time.ts';

export type Band = 'peak' | 'flat' | 'valley';

export interface BandPrice {
  band: Band;
  price: number;
}

/** The band and price in force at `ts`, or null when no validity period covers its local date. */
export function touPriceAt(tariff: TouTariff, ts: number, utcOffsetHours: number): BandPrice | null {
  const date = localDate(ts, utcOffsetHours);
  const period = tariff.periods.find((p) => p.from <= date && date <= p.to);
  if (!period) return null;
  const minute = localMinute(ts, utcOffsetHours);
  const slot = period.slots.find((s) => hhmmToMinutes(s.from) <= minute && minute < hhmmToMinutes(s.to));
  if (!slot) return null;
  return { band: slot.band, price: period.prices[slot.band] };
}

export interface TouCost {
  cost: number;
  amount: number;
  byBand: Record<Band, { amount: number; cost: number }>;
  /** Consumption on dates no tariff period covers: shown, not priced. */
  unpriced: number;
}

/**
 * Time-of-use cost of 15-minute consumption buckets (start, kWh). Slots are on a 15-minute grid, so a
 * bucket never straddles two slots; each bucket is priced by its start.
 */
export function touCost(buckets: Iterable<readonly [number, number]>, tariff: TouTariff, utcOffsetHours: number): TouCost {
  const out: TouCost = { cost: 0, amount: 0, unpriced: 0, byBand: { peak: { amount: 0, cost: 0 }, flat: { amount: 0, cost: 0 }, valley: { amount: 0, cost: 0 } } };
  for (const [start, amount] of buckets) {
    const p = touPriceAt(tariff, start, utcOffsetHours);
    if (!p) {
      out.unpriced += amount;
      continue;
    }
    out.amount += amount;
    out.cost += amount * p.price;
    out.byBand[p.band].amount += amount;
    out.byBand[p.band].cost += amount * p.price;
  }
  return out;
}

/**
 * Progressive (block) pricing of one meter's consumption in one month: each tier's price applies to the
 * part of the amount inside it. `alreadyUsed` is what the month used before, for partial periods.
 */
export function tieredCost(amount: number, tariff: TieredTariff, alreadyUsed = 0): { cost: number; tiers: Array<{ upTo: number | null; amount: number; cost: number }> } {
  let lower = 0;
  let cost = 0;
  const tiers: Array<{ upTo: number | null; amount: number; cost: number }> = [];
  const start = alreadyUsed;
  const end = alreadyUsed + amount;
  for (const t of tariff.tiers) {
    const upper = t.upTo ?? Infinity;
    const inTier = Math.max(0, Math.min(end, upper) - Math.max(start, lower));
    tiers.push({ upTo: t.upTo ?? null, amount: inTier, cost: inTier * t.price });
    cost += inTier * t.price;
    lower = upper;
  }
  return { cost, tiers };
}
