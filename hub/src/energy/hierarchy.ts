import type { EnergyConfig } from './config.ts';

export type Medium = 'power' | 'water' | 'gas';
export const UNITS: Record<Medium, { amount: string; rate: string; register: string; rateMetric: string }> = {
  power: { amount: 'kWh', rate: 'kW', register: 'energy_kwh', rateMetric: 'power_kw' },
  water: { amount: 'm³', rate: 'm³/h', register: 'volume_m3', rateMetric: 'flow_m3h' },
  gas: { amount: 'm³', rate: 'm³/h', register: 'volume_m3', rateMetric: 'flow_m3h' },
};

export interface TreeMeter {
  id: string;
  medium: Medium;
  unit: string;
  virtual: boolean;
  plus?: string[];
  minus?: string[];
}

export interface EnergyTreeNode {
  id: string;
  name: string;
  type: string;
  use?: string;
  meters: TreeMeter[];
  children: EnergyTreeNode[];
}

/** A signed sum of physical meters: what a node or a virtual meter consumes. */
export interface Formula {
  plus: string[];
  minus: string[];
}

export function buildTree(cfg: EnergyConfig): EnergyTreeNode | null {
  const byId = new Map<string, EnergyTreeNode>();
  for (const n of cfg.nodes) byId.set(n.id, { id: n.id, name: n.name ?? n.id, type: n.type, ...(n.use ? { use: n.use } : {}), meters: [], children: [] });
  for (const n of cfg.nodes) if (n.parent !== undefined) byId.get(n.parent)?.children.push(byId.get(n.id)!);
  for (const m of cfg.meters) byId.get(m.node)?.meters.push({ id: m.id, medium: m.medium, unit: UNITS[m.medium].amount, virtual: false });
  for (const v of cfg.virtualMeters) {
    if (v.node !== undefined) byId.get(v.node)?.meters.push({ id: v.id, medium: v.medium, unit: UNITS[v.medium].amount, virtual: true, plus: [...v.plus], minus: [...v.minus] });
  }
  const campus = cfg.nodes.find((n) => n.type === 'campus');
  return campus ? byId.get(campus.id)! : null;
}

/**
 * What a node consumes of one medium. A node's own physical meters measure everything below it (a
 * building main meter includes its floors' sub-meters), so they are used when present; otherwise the
 * children's formulas are added. Virtual meters are views, never added into totals (they would count twice).
 */
export function nodeFormula(cfg: EnergyConfig, nodeId: string, medium: Medium): Formula {
  // Indexes per call: a campus of thousands of nodes would otherwise be scanned once per node.
  const metersOf = new Map<string, string[]>();
  for (const m of cfg.meters) if (m.medium === medium) metersOf.set(m.node, [...(metersOf.get(m.node) ?? []), m.id]);
  const childrenOf = new Map<string, string[]>();
  for (const n of cfg.nodes) if (n.parent !== undefined) childrenOf.set(n.parent, [...(childrenOf.get(n.parent) ?? []), n.id]);
  const plus: string[] = [];
  const walk = (id: string): void => {
    const own = metersOf.get(id);
    if (own?.length) return void plus.push(...own);
    for (const c of childrenOf.get(id) ?? []) walk(c);
  };
  walk(nodeId);
  return { plus, minus: [] };
}

/** nodeFormula for every node at once (one pass), for building the per-node rollups. */
export function allNodeFormulas(cfg: EnergyConfig, medium: Medium): Map<string, string[]> {
  const metersOf = new Map<string, string[]>();
  for (const m of cfg.meters) if (m.medium === medium) metersOf.set(m.node, [...(metersOf.get(m.node) ?? []), m.id]);
  const childrenOf = new Map<string, string[]>();
  for (const n of cfg.nodes) if (n.parent !== undefined) childrenOf.set(n.parent, [...(childrenOf.get(n.parent) ?? []), n.id]);
  const out = new Map<string, string[]>();
  const walk = (id: string): string[] => {
    const done = out.get(id);
    if (done) return done;
    const own = metersOf.get(id);
    const plus = own?.length ? own : (childrenOf.get(id) ?? []).flatMap(walk);
    out.set(id, plus);
    return plus;
  };
  for (const n of cfg.nodes) walk(n.id);
  return out;
}

/** The formula of a physical meter, a virtual meter or a node (by id), or null when the id is unknown. */
export function formulaFor(cfg: EnergyConfig, id: string, medium?: Medium): { formula: Formula; medium: Medium; kind: 'meter' | 'virtual' | 'node' } | null {
  const m = cfg.meters.find((x) => x.id === id);
  if (m) return { formula: { plus: [m.id], minus: [] }, medium: m.medium, kind: 'meter' };
  const v = cfg.virtualMeters.find((x) => x.id === id);
  if (v) return { formula: { plus: [...v.plus], minus: [...v.minus] }, medium: v.medium, kind: 'virtual' };
  if (cfg.nodes.some((n) => n.id === id)) {
    const med = medium ?? 'power';
    return { formula: nodeFormula(cfg, id, med), medium: med, kind: 'node' };
  }
  return null;
}

/** Combines per-meter series (bucket start → amount) by a formula; a bucket missing from a minus meter counts as 0. */
export function combine(formula: Formula, series: ReadonlyMap<string, ReadonlyMap<number, number>>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [sign, ids] of [[1, formula.plus], [-1, formula.minus]] as const) {
    for (const id of ids) {
      for (const [t, v] of series.get(id) ?? []) out.set(t, (out.get(t) ?? 0) + sign * v);
    }
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}
