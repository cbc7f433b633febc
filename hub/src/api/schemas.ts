import { API_ROUTES, ErrorSchema } from '@warden/contract';

/**
 * The REST shapes live in the contract (contract/src/api/, one file per area); this module turns a
 * contract route into the fastify schema of its plugin, so the same objects validate the request,
 * serialise the answer, type the handler and document the route (OpenAPI).
 */

export { ErrorSchema, MsEpoch } from '@warden/contract';

type Routes = typeof API_ROUTES;
type Key = keyof Routes;
type SuccessStatus<D> = D extends { readonly status: infer S extends number } ? S : 200;

/** The fastify schema parts of a contract route: params, querystring, body and the success answer plus the listed failures. */
export type RouteSchema<D, E extends number> = { summary: string } & (D extends { readonly params: infer P } ? { params: P } : unknown) &
  (D extends { readonly query: infer Q } ? { querystring: Q } : unknown) &
  (D extends { readonly body: infer B } ? { body: B } : unknown) & {
    response: { [S in SuccessStatus<D>]: D extends { readonly response: infer R } ? R : never } & { [C in E]: typeof ErrorSchema };
  };

/** `schema: { ...route('GET /api/devices', 400, 401), tags, security }` */
export function route<K extends Key, const E extends number[]>(key: K, ...errorStatuses: E): RouteSchema<Routes[K], E[number]> {
  const d = API_ROUTES[key] as { summary: string; params?: unknown; query?: unknown; body?: unknown; status?: number; response: unknown };
  return {
    summary: d.summary,
    ...(d.params !== undefined ? { params: d.params } : {}),
    ...(d.query !== undefined ? { querystring: d.query } : {}),
    ...(d.body !== undefined ? { body: d.body } : {}),
    response: { [d.status ?? 200]: d.response, ...errors(...errorStatuses) },
  } as never;
}

/** Standard failure answers, added to every route's response schema. */
export const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, ErrorSchema]));
