import type { Device, LiveMessages } from '@warden/contract';

/** A device as the console shows it: the hub's answer, plus `gatewayOffline` set by the console when the device's gateway is offline. */
export type DeviceRow = Device & { gatewayOffline?: boolean };

export interface DeviceFilter {
  kind: string;
  gateway: string;
}

/** Applies availability updates; returns the ids it did not know (the inventory changed: time to refetch). */
export function applyDeviceUpdates(
  devices: readonly Device[],
  updates: readonly LiveMessages['device'][],
): { devices: Device[]; unknown: string[] } {
  const byId = new Map(updates.map((u) => [u.id, u]));
  const known = new Set<string>();
  const next = devices.map((d) => {
    const u = byId.get(d.id);
    if (!u) return d;
    known.add(d.id);
    return { ...d, online: u.online, lastSeen: u.lastSeen ?? d.lastSeen };
  });
  return { devices: next, unknown: [...byId.keys()].filter((id) => !known.has(id)) };
}

export function filterDevices<T extends Device>(devices: readonly T[], f: DeviceFilter): T[] {
  return devices.filter((d) => (!f.kind || d.kind === f.kind) && (!f.gateway || d.gateway === f.gateway));
}

/** Offline first (that is what needs attention), then by gateway and id. */
export function sortDevices<T extends Device>(devices: readonly T[]): T[] {
  return [...devices].sort(
    (a, b) => Number(a.online) - Number(b.online) || a.gateway.localeCompare(b.gateway) || a.id.localeCompare(b.id),
  );
}

export function countOnline<T extends { online: boolean }>(items: readonly T[]): { online: number; total: number } {
  return { online: items.filter((x) => x.online).length, total: items.length };
}

/** Distinct values of a field, sorted, for filter choices that only offer what exists. */
export function distinct<T, K extends keyof T>(items: readonly T[], key: K): T[K][] {
  return [...new Set(items.map((x) => x[key]))].sort();
}

/**
 * A device behind a gateway that is offline cannot be reached, whatever its last known state: the hub keeps the
 * last state it heard, the console shows what an operator can rely on. Unknown gateways count as online.
 */
export function withGatewayState(devices: readonly Device[], gatewayOnline: ReadonlyMap<string, boolean>): DeviceRow[] {
  return devices.map((d) => (d.online && gatewayOnline.get(d.gateway) === false ? { ...d, online: false, gatewayOffline: true } : d));
}
