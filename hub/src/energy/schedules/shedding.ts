/**
 * Demand limiting: when a building's power exceeds its limit, switch off the least important loads
 * first until the projected demand is under the limit; restore them, most important first, only when
 * there is room for each plus a margin, so a load is not switched back and forth around the limit.
 */
export interface Load {
  id: string;
  /** Higher = more important; shed last. */
  priority: number;
  /** What switching it off saves, kW (measured or nameplate). */
  kw: number;
  on: boolean;
  /** Life-safety and critical loads are never shed. */
  sheddable: boolean;
}

export interface SheddingPlan {
  shed: string[];
  projectedKw: number;
  satisfied: boolean;
  explanation: string;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

/** Lowest priority first; among equal priority the largest first, so fewer circuits are switched. */
export function planShedding(loads: readonly Load[], demandKw: number, limitKw: number): SheddingPlan {
  if (demandKw <= limitKw) return { shed: [], projectedKw: demandKw, satisfied: true, explanation: `demand ${r1(demandKw)} kW is within the limit ${r1(limitKw)} kW` };
  const candidates = loads.filter((l) => l.on && l.sheddable && l.kw > 0).sort((a, b) => a.priority - b.priority || b.kw - a.kw || a.id.localeCompare(b.id));
  const shed: string[] = [];
  let projected = demandKw;
  for (const l of candidates) {
    if (projected <= limitKw) break;
    shed.push(l.id);
    projected -= l.kw;
  }
  const satisfied = projected <= limitKw;
  return {
    shed,
    projectedKw: r1(projected),
    satisfied,
    explanation: `demand ${r1(demandKw)} kW over the limit ${r1(limitKw)} kW: shedding ${shed.join(', ') || 'nothing'} brings it to ${r1(projected)} kW${satisfied ? '' : ' (still over: no more sheddable loads)'}`,
  };
}

/** Which shed loads may come back: most important first, each only if demand plus it stays under limit − margin. */
export function planRestore(shedLoads: readonly Load[], demandKw: number, limitKw: number, marginKw: number): { restore: string[]; projectedKw: number } {
  const restore: string[] = [];
  let projected = demandKw;
  for (const l of [...shedLoads].sort((a, b) => b.priority - a.priority || a.kw - b.kw || a.id.localeCompare(b.id))) {
    if (projected + l.kw > limitKw - marginKw) continue;
    restore.push(l.id);
    projected += l.kw;
  }
  return { restore, projectedKw: r1(projected) };
}
