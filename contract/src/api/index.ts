import type { Static, TSchema } from 'typebox';
import { ALARM_ROUTES } from './alarms.ts';
import { ATTENDANCE_ROUTES } from './attendance.ts';
import { AUDIT_ROUTES } from './audit.ts';
import { AUTH_ROUTES } from './auth.ts';
import { CAMERA_ROUTES } from './cameras.ts';
import { DEVICE_ROUTES } from './devices.ts';
import { ENERGY_ROUTES } from './energy.ts';
import { EVENT_ROUTES } from './events.ts';
import { FACE_ROUTES } from './faces.ts';
import { GATEWAY_ROUTES } from './gateways.ts';
import { HEALTH_ROUTES } from './health.ts';
import { SITE_ROUTES } from './site.ts';
import { SNAPSHOT_ROUTES } from './snapshots.ts';
import { TELEMETRY_ROUTES } from './telemetry.ts';
import { USER_ROUTES } from './users.ts';

/*
 * The hub's REST API and live feed, one file per area. CONVENTION for a new area (e.g. attendance.ts):
 *   1. `contract/src/api/<area>.ts` exports its schemas (`FooSchema`), their types (`type Foo = Static<…>`)
 *      and `<AREA>_ROUTES = { 'GET /api/<area>/…': { summary, params?, query?, body?, status?, response } }
 *      as const satisfies Record<string, RouteDef>`;
 *   2. spread `<AREA>_ROUTES` into `API_ROUTES` below and add `export * from './<area>.ts'`;
 *   3. the hub's route plugin takes params/query/body/response from `API_ROUTES['GET /api/<area>/…']`
 *      (hub/src/api/schemas.ts `route()`), the console calls it by the same key (dashboard/src/api/client.ts).
 * Live messages: one entry in LIVE_MESSAGES (live.ts).
 */

export * from './common.ts';
export * from './alarms.ts';
export * from './attendance.ts';
export * from './audit.ts';
export * from './auth.ts';
export * from './cameras.ts';
export * from './devices.ts';
export * from './energy.ts';
export * from './events.ts';
export * from './faces.ts';
export * from './gateways.ts';
export * from './health.ts';
export * from './live.ts';
export * from './site.ts';
export * from './snapshots.ts';
export * from './telemetry.ts';
export * from './users.ts';

/** Every REST route: `METHOD /path/:param` -> its request and success-answer schemas. */
export const API_ROUTES = {
  ...AUTH_ROUTES,
  ...HEALTH_ROUTES,
  ...GATEWAY_ROUTES,
  ...DEVICE_ROUTES,
  ...EVENT_ROUTES,
  ...TELEMETRY_ROUTES,
  ...ALARM_ROUTES,
  ...SITE_ROUTES,
  ...AUDIT_ROUTES,
  ...FACE_ROUTES,
  ...ENERGY_ROUTES,
  ...ATTENDANCE_ROUTES,
  ...CAMERA_ROUTES,
  ...USER_ROUTES,
  ...SNAPSHOT_ROUTES,
} as const;

type StaticOf<D, K extends string> = D extends { readonly [P in K]: infer S extends TSchema } ? Static<S> : undefined;

/**
 * The route map as types: `ApiRoutes['GET /api/devices']` is `{method, path, params, query, body, response}`,
 * `undefined` where the route takes nothing. The console's client is typed from it.
 */
export type ApiRoutes = {
  [K in keyof typeof API_ROUTES]: {
    method: K extends `${infer M} ${string}` ? M : never;
    path: K extends `${string} ${infer P}` ? P : never;
    params: StaticOf<(typeof API_ROUTES)[K], 'params'>;
    query: StaticOf<(typeof API_ROUTES)[K], 'query'>;
    body: StaticOf<(typeof API_ROUTES)[K], 'body'>;
    response: StaticOf<(typeof API_ROUTES)[K], 'response'>;
  };
};
export type ApiRoute = keyof ApiRoutes;
