import type { GATEWAY_ID_PATTERN as ContractGatewayIdPattern, Gateway, LiveMessages } from '@warden/contract';

/** Applies status heartbeats, births and deaths; returns the ids it did not know (a gateway provisioned elsewhere). */
export function applyGatewayUpdates(
  gateways: readonly Gateway[],
  updates: readonly LiveMessages['gateway'][],
): { gateways: Gateway[]; unknown: string[] } {
  const byId = new Map(updates.map((u) => [u.id, u]));
  const known = new Set<string>();
  const next = gateways.map((g) => {
    const u = byId.get(g.id);
    if (!u) return g;
    known.add(g.id);
    return { ...g, online: u.online, lastSeen: u.lastSeen ?? g.lastSeen, backlog: u.backlog ?? g.backlog };
  });
  return { gateways: next, unknown: [...byId.keys()].filter((id) => !known.has(id)) };
}

/** The contract's gateway id rule (typed as the contract's literal: a changed rule breaks the type check), so the form can say what is wrong before asking the hub. */
export const GATEWAY_ID_PATTERN: typeof ContractGatewayIdPattern = '^[a-z0-9][a-z0-9_-]{0,63}$';
