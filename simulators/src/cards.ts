import type { Rng } from './rng.ts';

/** Campus cards are 10-digit numbers with leading zeros, as printed on one-card (一卡通) cards. */
const card = (n: number): string => String(n).padStart(10, '0');

/** The people who use a door or gate: a fixed set of card numbers drawn from the device's seeded stream. */
export function cardPool(rng: Rng, size: number): string[] {
  const cards = new Set<string>();
  while (cards.size < size) cards.add(card(rng.int(10_000_000, 99_999_999)));
  return [...cards];
}

/** A card that belongs to nobody here (lost, cloned or from another site): outside the pool's number range. */
export function strangerCard(rng: Rng): string {
  return card(rng.int(100_000_000, 999_999_999));
}
