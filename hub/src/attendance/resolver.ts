import type { NightStateName } from '@warden/contract';

export interface Crossing {
  ts: number;
  direction: 'in' | 'out';
}

/** A check-in point (or its gateway) not reporting, from `from` until `to` (null: still down). */
export interface Outage {
  from: number;
  to: number | null;
  kind: 'point' | 'gateway';
}

export interface NightInput {
  /** Curfew instant; null on a night without curfew (vacation). */
  curfew: number | null;
  /** Crossings from here on count (the start of the night before: who stayed in all day is still in). */
  lookbackStart: number;
  /** End of the night (exclusive). */
  end: number;
  /** What the resolver knows up to; before curfew the night is still pending. */
  asOf: number;
  crossings: readonly Crossing[];
  onLeave: boolean;
  exempt: boolean;
  /** Outages of the student's check-in points and their gateways. */
  outages: readonly Outage[];
}

export interface NightResult {
  state: NightStateName;
  /** in: the entry before curfew; late: the first entry after curfew. */
  at: number | null;
  outAgain: boolean;
  reason: string | null;
  /** Passes dropped as repeats of the one before (same direction). */
  duplicates: number;
  /**
   * Until when this result holds without new input (crossings, leave, outages, settings): curfew while it is still
   * to come, else the first known crossing or outage that lies after `asOf`; Infinity when time alone changes nothing.
   * The service keeps each night's rows and re-resolves a student only on new input or when this instant passes.
   */
  validUntil: number;
}

/**
 * One student's night. Rules (issue 11):
 * - exempt students and nights without curfew are `exempt`;
 * - repeated passes in the same direction collapse into the first;
 * - the last crossing before curfew decides: `in` → in (in-out-in ends in);
 * - otherwise the first entry after curfew (until the night ends, past midnight) makes it `late`;
 * - approved leave turns a missing or late return into `leave`;
 * - no return and a check-in point or gateway down since the last known crossing: `unknown`, never absent for a fault;
 * - else `absent` (or `pending` while curfew has not passed).
 */
export function resolveNight(n: NightInput): NightResult {
  if (n.exempt) return { state: 'exempt', at: null, outAgain: false, reason: 'exempt', duplicates: 0, validUntil: Infinity };
  if (n.curfew === null) return { state: 'exempt', at: null, outAgain: false, reason: 'no_curfew', duplicates: 0, validUntil: Infinity };
  const curfew = n.curfew;
  const limit = Math.min(n.end, n.asOf + 1);
  // One pass without allocating (30,000 students per report); input in time order, else sorted once.
  let list = n.crossings;
  for (let i = 1; i < list.length; i++) {
    if (list[i]!.ts < list[i - 1]!.ts) {
      list = [...list].sort((a, b) => a.ts - b.ts);
      break;
    }
  }
  let duplicates = 0;
  let prev: Crossing['direction'] | null = null;
  let lastBefore: Crossing | undefined;
  let lateIn: Crossing | undefined;
  let final: Crossing | undefined;
  // A crossing stamped after asOf (a device clock ahead) counts once time reaches it.
  let validUntil = n.asOf < curfew ? curfew : Infinity;
  for (const c of list) {
    if (c.ts >= limit && c.ts < n.end && c.ts < validUntil) validUntil = c.ts;
    if (c.ts < n.lookbackStart || c.ts >= limit) continue;
    if (c.direction === prev) {
      duplicates++;
      continue;
    }
    prev = c.direction;
    final = c;
    if (c.ts < curfew) lastBefore = c;
    else if (!lateIn && c.direction === 'in') lateIn = c;
  }
  if (lastBefore?.direction === 'in') {
    return { state: 'in', at: lastBefore.ts, outAgain: final !== undefined && final.ts >= curfew && final.direction === 'out', reason: null, duplicates, validUntil };
  }
  if (n.asOf < curfew) return { state: n.onLeave ? 'leave' : 'pending', at: null, outAgain: false, reason: n.onLeave ? 'approved_leave' : null, duplicates, validUntil };
  if (lateIn) {
    return { state: n.onLeave ? 'leave' : 'late', at: lateIn.ts, outAgain: final!.direction === 'out' && final!.ts > lateIn.ts, reason: n.onLeave ? 'approved_leave' : null, duplicates, validUntil };
  }
  if (n.onLeave) return { state: 'leave', at: null, outAgain: false, reason: 'approved_leave', duplicates, validUntil };
  // Unobserved since the last crossing we know of: an outage in that span means a return may have been missed.
  const since = lastBefore?.ts ?? n.lookbackStart;
  const until = Math.min(n.asOf, n.end);
  const fault = n.outages.find((o) => o.from <= until && (o.to === null || o.to >= since));
  if (fault) return { state: 'unknown', at: null, outAgain: false, reason: fault.kind === 'gateway' ? 'gateway_offline' : 'point_offline', duplicates, validUntil };
  // An outage recorded as starting after asOf turns this absent into unknown once time reaches it.
  for (const o of n.outages) if (o.from > until && o.from < n.end && o.from < validUntil) validUntil = o.from;
  return { state: 'absent', at: null, outAgain: false, reason: null, duplicates, validUntil };
}
