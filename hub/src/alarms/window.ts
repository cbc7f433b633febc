import type { DurableMap } from './types.ts';

/**
 * Keeps a rule's durable window map bounded: entries whose window has passed (`expired`) are deleted, and if the
 * map is still over `cap` (a flood of one-off credentials within the window) the oldest entries (by `latest`) are
 * evicted down to 90 % of the cap, so eviction runs rarely. Each deletion is a row delete in the next group commit.
 * Returns how many live (not expired) entries were evicted.
 */
export function boundWindow<T>(map: DurableMap<T>, latest: (v: T) => number, expired: (v: T) => boolean, cap: number): number {
  const doomed: string[] = [];
  for (const [k, v] of map) if (expired(v)) doomed.push(k);
  for (const k of doomed) map.delete(k);
  if (map.size <= cap) return 0;
  const live = [...map].sort((a, b) => latest(a[1]) - latest(b[1]));
  const evict = live.length - Math.floor(cap * 0.9);
  for (let i = 0; i < evict; i++) map.delete(live[i]![0]);
  return evict;
}

/** How often (hub clock) a windowed rule sweeps expired entries from its tick. */
export const SWEEP_MS = 60_000;
