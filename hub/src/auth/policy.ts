import type { ApiRoute, Scope } from '@warden/contract';
import type { Role } from '../config.ts';

/**
 * Who may use each REST route, and how scope applies, in one table keyed by the contract's route map.
 * The API's access hook (hub/src/api/access.ts) enforces it for every request; a route registered without an
 * entry here fails the hub's start, and hub/test/authz-matrix.test.ts walks the OpenAPI description against it.
 *
 * who: 'public' anyone; 'local' the hub's own host, else an admin; 'user' any logged-in user; a role list: a
 *   logged-in user holding one of them. admin may use every route; supervisor holds security's rights.
 * scope: 'none' the route is not about places; 'filter' list answers keep only items in the user's scope
 *   (by `building`/`zone`, or by the building of the item's `device`); 'device' / 'alarm' the route acts on one
 *   object (the `:id` device or alarm, the `device` query, or the `ids` of the body) and refuses 403 outside the scope;
 *   'handler' the route's own service checks the scope (attendance, faces: a dorm manager's dorm buildings).
 */
export type Who = 'public' | 'local' | 'user' | 'self' | readonly Role[];
export type ScopeRule = 'none' | 'filter' | 'device' | 'alarm' | 'handler';
export interface RoutePolicy {
  who: Who;
  scope: ScopeRule;
  /** Reads of face and person data: each successful call is written to the audit trail (who read what). */
  auditRead?: boolean;
}

const SEC = ['security'] as const;
const FAC = ['facilities'] as const;
const DORM = ['dorm'] as const;
/** Attendance reads and leave: dorm managers and counsellors (辅导员), each narrowed by the attendance service. */
const ATT = ['dorm', 'counsellor'] as const;
const ADMIN = ['admin'] as const;
const p = (who: Who, scope: ScopeRule = 'none', auditRead = false): RoutePolicy => ({ who, scope, ...(auditRead ? { auditRead } : {}) });

export const ROUTE_POLICY: Record<ApiRoute | 'GET /api/openapi.json', RoutePolicy> = {
  'GET /api/openapi.json': p('public'),
  'POST /api/auth/login': p('public'),
  'GET /api/me': p('self'),
  'POST /api/auth/password': p('self'),
  'POST /api/auth/logout': p('self'),
  'GET /api/health': p('public'),
  'GET /api/metrics': p('local'),
  'GET /api/gateways': p('user'),
  'POST /api/gateways': p(ADMIN),
  'POST /api/gateways/:id/credentials': p(ADMIN),
  'POST /api/gateways/:id/certificates/revoke': p(ADMIN),
  'GET /api/devices': p('user', 'filter'),
  'GET /api/cameras/status': p(SEC, 'handler'),
  // Live view tickets (issue 13 scale-out): the handler checks the camera's scope as the video relay does; audited.
  'POST /api/cameras/:id/live': p(SEC, 'handler'),
  'POST /api/devices/:id/adopt': p(ADMIN),
  'POST /api/devices/:id/reject': p(ADMIN),
  'POST /api/devices/:id/unreject': p(ADMIN),
  'POST /api/devices/:id/commands': p(['security', 'facilities'], 'device'),
  'GET /api/events': p('user', 'filter'),
  'GET /api/telemetry': p('user', 'device'),
  'GET /api/alarms': p(SEC, 'filter'),
  'GET /api/alarms/:id': p(SEC, 'alarm'),
  'POST /api/alarms/:id/acknowledge': p(SEC, 'alarm'),
  'POST /api/alarms/:id/resolve': p(SEC, 'alarm'),
  'POST /api/alarms/acknowledge': p(SEC, 'alarm'),
  'GET /api/site': p('user'),
  // Snapshots (issue 10): alarm snapshots for security, face snapshots for roles that see faces; the handler checks
  // each one's cause and camera scope; reads are audited (face data).
  'GET /api/snapshots': p(['security', 'dorm'], 'handler', true),
  'GET /api/snapshots/:id': p(['security', 'dorm'], 'handler', true),
  'GET /api/audit': p(['facilities', 'supervisor']),
  'GET /api/audit/export': p(ADMIN),
  'GET /api/faces/persons': p(['security', 'dorm'], 'handler', true),
  'GET /api/faces/persons/:id': p(['security', 'dorm'], 'handler', true),
  'POST /api/faces/persons': p(DORM, 'handler'),
  'PATCH /api/faces/persons/:id': p(DORM, 'handler'),
  'DELETE /api/faces/persons/:id': p(DORM, 'handler'),
  'POST /api/faces/persons/:id/consent': p(DORM, 'handler'),
  'POST /api/faces/persons/:id/consent/withdraw': p(DORM, 'handler'),
  'POST /api/faces/persons/:id/enrol': p(DORM, 'handler'),
  'POST /api/faces/persons/:id/leave': p(DORM, 'handler'),
  'PUT /api/faces/persons/:id/watchlist': p(SEC, 'handler'),
  'POST /api/faces/sightings/:eventId/correct': p(SEC, 'handler'),
  'GET /api/faces/gateways': p(ADMIN),
  'PUT /api/faces/gateways/:id': p(ADMIN),
  'POST /api/faces/retention/run': p(ADMIN),
  'GET /api/energy/tree': p(FAC, 'handler'),
  'GET /api/energy/consumption': p(FAC, 'handler'),
  'GET /api/energy/cost': p(FAC, 'handler'),
  'GET /api/energy/schedules': p(FAC, 'handler'),
  'PUT /api/energy/schedules/:id': p(FAC, 'handler'),
  'POST /api/energy/schedules/override': p(FAC, 'handler'),
  'GET /api/energy/anomalies': p(FAC, 'handler'),
  'GET /api/energy/anomalies/feedback': p(FAC, 'handler'),
  'GET /api/energy/alarms': p(FAC, 'handler'),
  'POST /api/energy/alarms/:id/acknowledge': p(FAC, 'handler'),
  'POST /api/energy/anomalies/feedback': p(FAC, 'handler'),
  'GET /api/energy/detection': p(FAC, 'handler'),
  'POST /api/energy/import': p(FAC, 'handler'),
  'GET /api/attendance/settings': p(ADMIN),
  'PUT /api/attendance/settings': p(ADMIN),
  'POST /api/attendance/roster': p(ADMIN),
  'GET /api/attendance/buildings': p(ATT, 'handler'),
  'GET /api/attendance/board': p(ATT, 'handler'),
  'GET /api/attendance/exceptions': p(ATT, 'handler'),
  'GET /api/attendance/export': p(ATT, 'handler', true),
  'GET /api/attendance/students/:id': p(ATT, 'handler', true),
  'GET /api/attendance/summary': p(ATT, 'handler'),
  'GET /api/attendance/leaves': p(ATT, 'handler'),
  'POST /api/attendance/leaves': p(ATT, 'handler'),
  'POST /api/attendance/leaves/:id/approve': p(ATT, 'handler'),
  'POST /api/attendance/leaves/:id/reject': p(ATT, 'handler'),
  'POST /api/attendance/leaves/:id/revoke': p(ATT, 'handler'),
  'GET /api/users': p(ADMIN),
  'POST /api/users': p(ADMIN),
  'PATCH /api/users/:id': p(ADMIN),
  'POST /api/users/:id/password': p(ADMIN),
  'POST /api/users/:id/logout': p(ADMIN),
  'POST /api/users/:id/unlock': p(['supervisor']),
};

/** The policy of a registered route (`HEAD` follows its `GET`), or undefined when it has none. */
export function policyOf(method: string, url: string): RoutePolicy | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  return (ROUTE_POLICY as Record<string, RoutePolicy>)[`${m} ${url}`];
}

/** Does a user with these roles pass the route's role gate? (admin always; supervisor counts as security.) */
export function roleAllows(who: Who, roles: readonly Role[]): boolean {
  if (who === 'public' || who === 'self') return true;
  // A counsellor (with no other role) uses the attendance routes of their students and their own account, nothing else.
  if (who === 'user') return roles.some((r) => r !== 'counsellor');
  if (roles.includes('admin')) return true;
  if (who === 'local') return false;
  const have = new Set<Role>(roles);
  if (have.has('supervisor')) have.add('security');
  return who.some((r) => have.has(r));
}

/** A place (building, zone) is in the user's scope? Empty scope: everywhere. Dorm buildings count as buildings. */
export function inScope(scope: Scope | undefined, place: { building?: string | null; zone?: string | null }): boolean {
  if (!scope) return true;
  const buildings = [...(scope.buildings ?? []), ...(scope.dorms ?? [])];
  const zones = scope.zones ?? [];
  if (buildings.length === 0 && zones.length === 0) return true;
  if (buildings.length > 0 && place.building && buildings.includes(place.building)) return true;
  if (zones.length > 0 && place.zone && zones.includes(place.zone)) return true;
  return false;
}

export function isScoped(scope: Scope | undefined): boolean {
  return !!scope && ((scope.buildings?.length ?? 0) > 0 || (scope.zones?.length ?? 0) > 0 || (scope.dorms?.length ?? 0) > 0);
}

/** Facilities staff (without a security, dorm or admin role) see no face sightings, card numbers or check-ins. */
export function seesPeople(roles: readonly Role[]): boolean {
  return roles.some((r) => r === 'admin' || r === 'security' || r === 'supervisor' || r === 'dorm');
}

/** Event types that carry a person, a face or a credential. */
export function isPersonEvent(e: { type: string; data?: Record<string, unknown> }): boolean {
  if (/^(face|access|attendance|turnstile)\./.test(e.type)) return true;
  const d = e.data ?? {};
  return 'credential' in d || 'person' in d || 'card' in d;
}

/**
 * Live messages, by role and scope (hub/src/live/feed.ts applies it to every message on every socket):
 * - event: facilities get none that carry a person, face or card; others only for devices in their scope;
 * - device: in scope; gateway: every logged-in user (no place, no person);
 * - alarm: security and supervisor (in scope), dorm managers for their dorm buildings, facilities energy alarms only (in scope);
 * - linkage: security and supervisor, for devices in scope.
 * A dorm manager (without a security role) is always narrowed: to scope.dorms/buildings plus the hub config's
 * `faces.dormManagers` entry; with none of them they receive no place-bound message.
 */
export interface LiveUser {
  username: string;
  roles: readonly Role[];
  scope?: Scope;
}

export function placeScope(user: LiveUser, dormBuildings: readonly string[] = []): Scope | undefined {
  if (user.roles.includes('admin')) return undefined;
  const security = user.roles.includes('security') || user.roles.includes('supervisor');
  const scope = user.scope ?? {};
  if (!security && user.roles.includes('dorm')) {
    const dorms = [...new Set([...(scope.dorms ?? []), ...(scope.buildings ?? []), ...dormBuildings])];
    // Nothing at all: a building no device has, so nothing place-bound matches.
    return { dorms: dorms.length > 0 ? dorms : ['\u0000none'], ...(scope.zones ? { zones: scope.zones } : {}) };
  }
  return isScoped(scope) ? scope : undefined;
}

export function liveAllowed(
  user: LiveUser,
  channel: string,
  msg: unknown,
  d: { deviceOf(id: string): { building: string | null; zone: string | null } | null; dormBuildings(username: string): readonly string[] },
): boolean {
  const roles = user.roles;
  if (roles.includes('admin')) return true;
  // Counsellors only: attendance messages (narrowed to their students by the attendance module), nothing place-bound.
  if (!roles.some((r) => r !== 'counsellor')) return channel === 'attendance';
  const scope = placeScope(user, d.dormBuildings(user.username));
  const deviceIn = (id: string | undefined) => {
    if (!scope) return true;
    const dev = id ? d.deviceOf(id) : null;
    return !!dev && inScope(scope, dev);
  };
  const security = roles.includes('security') || roles.includes('supervisor');
  switch (channel) {
    case 'event': {
      const e = msg as { type: string; device: string; data?: Record<string, unknown> };
      if (!seesPeople(roles) && isPersonEvent(e)) return false;
      return deviceIn(e.device);
    }
    case 'device':
      return deviceIn((msg as { id: string }).id);
    case 'gateway':
      return true;
    case 'alarm': {
      const a = msg as { type: string; building?: string | null; zone?: string | null; credential?: string | null };
      // Facilities: energy alarms only, of their buildings/zones (the alarm's place is its meter's registered place).
      if (!security && !roles.includes('dorm')) return roles.includes('facilities') && a.type.startsWith('energy.') && !a.credential && (!scope || inScope(scope, a));
      return !scope || inScope(scope, a);
    }
    case 'linkage': {
      if (!security) return false;
      const l = msg as { devices: string[] };
      return !scope || l.devices.length === 0 || l.devices.some((id) => deviceIn(id));
    }
    default:
      // Other channels (attendance) carry their own filter.
      return true;
  }
}
