import type { Alarm, AlarmPriority, AlarmState } from '@warden/contract';

export const PRIORITIES: readonly AlarmPriority[] = ['critical', 'high', 'medium', 'low'];
const RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const STATE_RANK: Record<AlarmState, number> = { raised: 0, acknowledged: 1, resolved: 2 };

export const isOpen = (a: Alarm): boolean => a.state !== 'resolved';

/**
 * The newer of two versions of one alarm. The hub emits every change, but a REST page fetched while messages
 * are in flight may be older than what the feed brought: state only moves forward, then the count grows.
 */
export function newer(a: Alarm, b: Alarm): Alarm {
  if (STATE_RANK[a.state] !== STATE_RANK[b.state]) return STATE_RANK[a.state] > STATE_RANK[b.state] ? a : b;
  if (a.count !== b.count) return a.count > b.count ? a : b;
  if ((a.escalatedAt ?? 0) !== (b.escalatedAt ?? 0)) return (a.escalatedAt ?? 0) > (b.escalatedAt ?? 0) ? a : b;
  if (a.conditionCleared !== b.conditionCleared) return a.conditionCleared ? a : b;
  return a.lastAt >= b.lastAt ? b : a;
}

/** Merges alarms by id, keeping the newer version of each. */
export function mergeAlarms(current: readonly Alarm[], incoming: readonly Alarm[]): Alarm[] {
  const byId = new Map(current.map((a) => [a.id, a]));
  for (const a of incoming) {
    const cur = byId.get(a.id);
    byId.set(a.id, cur ? newer(cur, a) : a);
  }
  return [...byId.values()];
}

/** Most urgent first: priority, then unacknowledged before acknowledged, then newest. */
export function sortAlarms(alarms: readonly Alarm[]): Alarm[] {
  return [...alarms].sort(
    (a, b) => (RANK[a.priority] ?? 9) - (RANK[b.priority] ?? 9) || STATE_RANK[a.state] - STATE_RANK[b.state] || b.lastAt - a.lastAt,
  );
}

export interface AlarmFilter {
  priority?: string;
  type?: string;
  state?: string;
  q?: string;
}

export function filterAlarms(alarms: readonly Alarm[], f: AlarmFilter): Alarm[] {
  const q = f.q?.trim().toLowerCase();
  return alarms.filter(
    (a) =>
      (!f.priority || a.priority === f.priority) &&
      (!f.type || a.type === f.type || (f.type.endsWith('.*') && a.type.startsWith(f.type.slice(0, -1)))) &&
      (!f.state || a.state === f.state) &&
      (!q || [a.title, a.device, a.building, a.zone, a.credential].some((v) => v?.toLowerCase().includes(q))),
  );
}

/** Devices with an open alarm, for blinking markers on the site plan. */
export function alarmedDevices(alarms: readonly Alarm[]): Set<string> {
  return new Set(alarms.filter(isOpen).map((a) => a.device));
}

/** The alarm that should sound: any still raised (nobody has acknowledged it). */
export function needsAttention(alarms: readonly Alarm[]): boolean {
  return alarms.some((a) => a.state === 'raised');
}

/** The highest priority among raised alarms, which sets the beep's pitch and pace. */
export function loudest(alarms: readonly Alarm[]): AlarmPriority | null {
  let best: AlarmPriority | null = null;
  for (const a of alarms) if (a.state === 'raised' && (best === null || RANK[a.priority]! < RANK[best]!)) best = a.priority;
  return best;
}

/** `#/alarms/<id>` -> id; `#/alarms` and `#/alarms/history` -> null. */
export function alarmIdFromHash(hash: string): string | null {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts[0] !== 'alarms' || !parts[1] || parts[1] === 'history') return null;
  return decodeURIComponent(parts[1]);
}
