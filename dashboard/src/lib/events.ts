import type { EventType } from '@warden/contract';
import type { HubEvent } from '@warden/contract';

export type Severity = 'alarm' | 'warning' | 'info';

/** What an operator must act on now. */
const ALARM_TYPES: ReadonlySet<string> = new Set<EventType>([
  'door.forced',
  'fire.alarm',
  'emergency.call',
  'intrusion.alarm',
  'intrusion.tamper',
]);
/** Worth a look, not an emergency. */
// linkage.failsafe: a gateway released doors on its own because the hub could not; someone should know.
const WARNING_TYPES: ReadonlySet<string> = new Set<EventType>(['door.held_open', 'access.denied', 'fire.fault', 'device.offline', 'linkage.failsafe']);

export function severityOf(type: string): Severity {
  if (ALARM_TYPES.has(type)) return 'alarm';
  if (WARNING_TYPES.has(type)) return 'warning';
  return 'info';
}

/** How many events the live list keeps; older ones drop off the bottom. */
export const MAX_EVENTS = 500;

function newerFirst(a: HubEvent, b: HubEvent): number {
  // Arrival at the hub is what "live" means to an operator; a backlog flushed after an outage lands on top.
  return b.receivedAt - a.receivedAt || b.ts - a.ts || b.seq - a.seq || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * Merges incoming events into a newest-first list without duplicates (the same event can come both from the
 * live feed and from a page fetched around the same moment), capped at `max`.
 */
export function mergeEvents(current: readonly HubEvent[], incoming: readonly HubEvent[], max = MAX_EVENTS): HubEvent[] {
  if (incoming.length === 0) return current as HubEvent[];
  const seen = new Set(current.map((e) => e.id));
  const fresh = incoming.filter((e) => {
    if (seen.has(e.id)) return false;
    seen.add(e.id);
    return true;
  });
  if (fresh.length === 0) return current as HubEvent[];
  return [...fresh, ...current].sort(newerFirst).slice(0, max);
}

export interface SummaryLabels {
  dataKeys: Record<string, string>;
  dataValues: Record<string, string>;
  yes: string;
  no: string;
}

const MAX_SUMMARY = 120;

/** One short line for an event's data, e.g. `方式: 刷卡, 人员: 张三`. */
export function summarizeData(data: Record<string, unknown> | null | undefined, labels: SummaryLabels): string {
  if (!data) return '';
  const parts: string[] = [];
  for (const [key, raw] of Object.entries(data)) {
    if (raw === undefined || raw === null) continue;
    let value: string;
    if (typeof raw === 'boolean') value = raw ? labels.yes : labels.no;
    else if (typeof raw === 'string') value = labels.dataValues[raw] ?? raw;
    else if (typeof raw === 'number') value = String(raw);
    else value = JSON.stringify(raw);
    parts.push(`${labels.dataKeys[key] ?? key}: ${value}`);
  }
  const line = parts.join(', ');
  return line.length > MAX_SUMMARY ? `${line.slice(0, MAX_SUMMARY - 1)}…` : line;
}
