import type { EnergyNode, Scope } from '@warden/contract';
import { inScope, isScoped } from '../../auth/policy.ts';
import type { EnergyConfig } from '../../energy/config.ts';

type Place = { building: string | null; zone: string | null };

/**
 * What of the energy hierarchy a user with a building/zone scope may see (issue 9). An unscoped user sees everything.
 * - a node is *named* by the scope when its id is one of the scope's buildings, dorms or zones (the energy config may
 *   use the registry's building ids as node ids); a node under a named node is in scope;
 * - a physical meter is in scope when its device is registered in a building/zone of the scope, or its node is in scope;
 * - a node is in scope when it (or an ancestor) is named, or when it has physical meters below it and every one is in
 *   scope (its sums then hold nothing of another building); a virtual meter when all its terms are in scope;
 * - ancestors of in-scope nodes are kept in the tree as the path: name and type, their in-scope children and in-scope
 *   meters; their consumption and cost are the sum of their in-scope nodes below (`parts`), never their own totals,
 *   which hold other buildings (their own meters, measuring everything below them, are left out of that sum);
 * - a scheduled circuit is in scope when its actuator is registered in scope; a schedule when all its circuits are.
 * Ids the energy config does not know are not a scope question (the handler's 404), as for devices.
 */
export interface EnergyScope {
  scoped: boolean;
  /** A node, physical or virtual meter id: may the user read it? (true for unknown ids) */
  id(id: string): boolean;
  /** A physical meter: in scope? (true for unknown ids) */
  meter(id: string): boolean;
  /** A scheduled circuit (actuator device): in scope? */
  circuit(id: string): boolean;
  /** A schedule (by its circuits): in scope? */
  schedule(s: { circuits: readonly string[] }): boolean;
  /**
   * A node outside the scope: the topmost in-scope nodes below it, whose sum stands for it (empty: none, refuse it).
   * Null for an in-scope node, a meter, an unknown id, or an unscoped user.
   */
  parts(id: string): string[] | null;
  /** The tree pruned to in-scope nodes and the path to them; null when nothing is left. */
  tree(t: EnergyNode | null): EnergyNode | null;
}

export function energyScope(scope: Scope | undefined, cfg: EnergyConfig, deviceOf: (id: string) => Place | null): EnergyScope {
  if (!isScoped(scope)) {
    return { scoped: false, id: () => true, meter: () => true, circuit: () => true, schedule: () => true, parts: () => null, tree: (t) => t };
  }
  const named = new Set([...(scope!.buildings ?? []), ...(scope!.dorms ?? []), ...(scope!.zones ?? [])]);
  const parentOf = new Map(cfg.nodes.map((n) => [n.id, n.parent]));
  const childrenOf = new Map<string, string[]>();
  for (const n of cfg.nodes) if (n.parent !== undefined) childrenOf.set(n.parent, [...(childrenOf.get(n.parent) ?? []), n.id]);
  const metersOf = new Map<string, string[]>();
  for (const m of cfg.meters) metersOf.set(m.node, [...(metersOf.get(m.node) ?? []), m.id]);

  const underNamed = (nodeId: string): boolean => {
    const seen = new Set<string>();
    for (let id: string | undefined = nodeId; id !== undefined && !seen.has(id); id = parentOf.get(id)) {
      if (named.has(id)) return true;
      seen.add(id);
    }
    return false;
  };
  const deviceIn = (id: string) => {
    const d = deviceOf(id);
    return !!d && inScope(scope, d);
  };
  const meterIn = new Map(cfg.meters.map((m) => [m.id, underNamed(m.node) || deviceIn(m.id)]));
  const nodeIn = new Map<string, boolean>();
  const below = (id: string): string[] => [...(metersOf.get(id) ?? []), ...(childrenOf.get(id) ?? []).flatMap(below)];
  for (const n of cfg.nodes) {
    const ms = below(n.id);
    nodeIn.set(n.id, underNamed(n.id) || (ms.length > 0 && ms.every((m) => meterIn.get(m))));
  }
  const virtualIn = new Map(cfg.virtualMeters.map((v) => [v.id, [...v.plus, ...v.minus].every((m) => meterIn.get(m) ?? false)]));

  const meter = (id: string) => meterIn.get(id) ?? virtualIn.get(id) ?? true;
  const prune = (n: EnergyNode): EnergyNode | null => {
    const children = n.children.map(prune).filter((c): c is EnergyNode => c !== null);
    const meters = n.meters.filter((m) => meter(m.id));
    if (!nodeIn.get(n.id) && children.length === 0 && meters.length === 0) return null;
    return { ...n, meters, children };
  };
  const circuit = (id: string) => deviceIn(id);
  const topIn = (id: string): string[] => (nodeIn.get(id) ? [id] : (childrenOf.get(id) ?? []).flatMap(topIn));
  return {
    scoped: true,
    id: (id) => nodeIn.get(id) ?? meter(id),
    meter,
    circuit,
    schedule: (s) => s.circuits.length > 0 && s.circuits.every(circuit),
    parts: (id) => (!nodeIn.has(id) || nodeIn.get(id) ? null : topIn(id)),
    tree: (t) => (t ? prune(t) : null),
  };
}
