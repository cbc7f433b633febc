import type { Role } from '@warden/contract';
import type { Messages } from '../i18n/messages.ts';

/** The console's pages. Adding a page = one entry here plus its component in `pages/index.ts`. */
export const PAGES = [
  { id: 'events', label: 'nav.events', roles: ['security', 'dorm'] },
  { id: 'alarms', label: 'nav.alarms', roles: ['security'] },
  { id: 'site', label: 'nav.site', roles: ['security'] },
  { id: 'cameras', label: 'nav.cameras', roles: ['security', 'supervisor'] },
  { id: 'cameraStatus', label: 'nav.cameraStatus', roles: ['security', 'supervisor'] },
  { id: 'devices', label: 'nav.devices', roles: ['security', 'dorm', 'facilities'] },
  { id: 'energy', label: 'nav.energy', roles: ['facilities'] },
  { id: 'energyCost', label: 'nav.energyCost', roles: ['facilities'] },
  { id: 'energyAnomalies', label: 'nav.energyAnomalies', roles: ['facilities'] },
  { id: 'energyImport', label: 'nav.energyImport', roles: ['facilities'] },
  { id: 'energySchedules', label: 'nav.energySchedules', roles: ['facilities'] },
  { id: 'faces', label: 'nav.faces', roles: ['security', 'dorm'] },
  { id: 'attendance', label: 'nav.attendance', roles: ['dorm', 'counsellor'] },
  { id: 'gateways', label: 'nav.gateways', roles: [] },
  { id: 'proposals', label: 'nav.proposals', roles: [] },
  { id: 'audit', label: 'nav.audit', roles: ['facilities'] },
  { id: 'users', label: 'nav.users', roles: [] },
] as const satisfies readonly PageDef[];

export interface PageDef {
  id: string;
  label: `nav.${keyof Messages['nav']}`;
  /** Roles that see the page besides `admin`, who sees every page. */
  roles: readonly Role[];
}

export type PageId = (typeof PAGES)[number]['id'];

export function canSee(page: PageDef, roles: readonly Role[]): boolean {
  // A security supervisor sees everything security sees (the hub's access policy treats them alike).
  const has = (r: Role) => roles.includes(r) || (r === 'security' && roles.includes('supervisor'));
  return roles.includes('admin') || page.roles.some(has);
}

export function visiblePages(roles: readonly Role[]): (typeof PAGES)[number][] {
  return PAGES.filter((p) => canSee(p, roles));
}

export function pageById(id: string): (typeof PAGES)[number] | undefined {
  return PAGES.find((p) => p.id === id);
}
