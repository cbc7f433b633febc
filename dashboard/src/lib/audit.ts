import type { AuditEntry, SchedulePeriod } from '@warden/contract';
import { hubPath, type HubPath } from '../api/client.ts';
import { WEEKDAYS } from '../api/values.ts';
import { periodsText } from './energy.ts';

/*
 * Pure logic of the audit page: which entries a filter asks the hub for, and a one-line reading of an entry's detail.
 */

/** The filters of the audit page → the `action` prefixes of GET /api/audit (undefined: every entry the user may read). */
export const AUDIT_FILTERS = { all: undefined, energy: 'schedule.,demand.', scheduleEdits: 'schedule.edit' } as const;
export type AuditFilter = keyof typeof AUDIT_FILTERS;

export function auditPath(filter: AuditFilter, limit = 200): HubPath<'GET /api/audit'> {
  const action = AUDIT_FILTERS[filter];
  return hubPath('GET /api/audit', { query: { limit, action } });
}

type Week = Partial<Record<string, SchedulePeriod[]>>;

/** The days a schedule edit changed, e.g. `term mon: 07:00–22:00 → 07:00–20:00`. */
export function scheduleEditChanges(detail: Record<string, unknown>): string[] {
  const before = (detail.before ?? {}) as { term?: Week; vacation?: Week };
  const after = (detail.after ?? {}) as { term?: Week; vacation?: Week };
  const out: string[] = [];
  for (const plan of ['term', 'vacation'] as const) {
    for (const d of WEEKDAYS) {
      const a = periodsText(before[plan]?.[d]);
      const b = periodsText(after[plan]?.[d]);
      if (a !== b) out.push(`${plan} ${d}: ${a} → ${b}`);
    }
  }
  return out;
}

/** The detail of an entry in one line: schedule edits by their changed days (empty: none changed), others as compact key=value pairs. */
export function auditDetailText(e: AuditEntry): string {
  if (e.action === 'schedule.edit') {
    const changes = scheduleEditChanges(e.detail);
    return changes.join('; ');
  }
  return Object.entries(e.detail)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
