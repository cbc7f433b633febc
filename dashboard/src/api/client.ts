import type { ApiRoute, ApiRoutes } from '@warden/contract';

/*
 * The hub's REST API, typed from the contract's route map (contract/src/api/): a route is named by its key,
 * e.g. 'GET /api/alarms/:id', and its params, query, body and answer are the contract's types. A field renamed
 * in the contract breaks this console's type check. Only types come from the contract (no TypeBox in the bundle).
 */

export type { ApiRoute, ApiRoutes };
/** The success answer of a route. */
export type Reply<K extends ApiRoute> = ApiRoutes[K]['response'];
/** Routes read with GET (what the fetch hooks take). */
export type GetRoute = { [K in ApiRoute]: ApiRoutes[K]['method'] extends 'GET' ? K : never }[ApiRoute];

type Part<Name extends string, T, Optional extends boolean> = [T] extends [undefined]
  ? { [P in Name]?: undefined }
  : Optional extends true
    ? { [P in Name]?: T }
    : { [P in Name]: T };

/** What calling route K takes: `params` for its `:names`, `query` (optional when every field is), `body`. */
export type CallArgs<K extends ApiRoute> = Part<'params', ApiRoutes[K]['params'], false> &
  Part<'query', ApiRoutes[K]['query'], {} extends NonNullable<ApiRoutes[K]['query']> ? true : false> &
  Part<'body', ApiRoutes[K]['body'], undefined extends ApiRoutes[K]['body'] ? true : false>;

declare const routeBrand: unique symbol;
/** A URL of route K (path with params filled and query string); built by `hubPath`. */
export type HubPath<K extends ApiRoute> = string & { readonly [routeBrand]?: K };

type QueryValue = string | number | boolean | undefined | null;

/** The URL of a route: `:name` segments filled (encoded), query values appended, empty ones left out. */
export function hubPath<K extends ApiRoute>(route: K, args: Pick<CallArgs<K>, 'params' | 'query'>): HubPath<K> {
  const path = route.slice(route.indexOf(' ') + 1);
  const params = (args.params ?? {}) as Record<string, string>;
  const filled = path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
  return `${filled}${query((args.query ?? {}) as Record<string, QueryValue>)}`;
}

/** The HTTP method of a route key. */
export const methodOf = (route: ApiRoute): RequestOptions['method'] => route.slice(0, route.indexOf(' ')) as RequestOptions['method'];

/** Error of a hub call: the hub's `{error:{code,message}}` envelope plus the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds from a `Retry-After` header (429), when the hub sent one. */
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** status 0: the hub could not be reached at all. */
export const UNREACHABLE = 'unreachable';

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  token?: string | null;
  signal?: AbortSignal;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, UNREACHABLE, err instanceof Error ? err.message : String(err));
  }
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // A proxy's HTML error page, for instance: reported below by status, not as a parse failure.
    }
  }
  if (!res.ok) {
    const envelope = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const retry = Number(res.headers.get('retry-after'));
    throw new ApiError(
      res.status,
      typeof envelope?.code === 'string' ? envelope.code : `http_${res.status}`,
      typeof envelope?.message === 'string' ? envelope.message : res.statusText,
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
  }
  return parsed as T;
}

/** Builds a query string, leaving out empty values. */
export function query(params: Record<string, QueryValue>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Calls route K: method and path from the key, params/query/body typed by the contract, the answer typed too. */
export function call<K extends ApiRoute>(route: K, args: CallArgs<K>, opts: { token?: string | null; signal?: AbortSignal } = {}): Promise<Reply<K>> {
  return request<Reply<K>>(hubPath(route, args as Pick<CallArgs<K>, 'params' | 'query'>), { method: methodOf(route), body: args.body, token: opts.token, signal: opts.signal });
}

/** GETs a URL built by `hubPath` (what the fetch hooks hold on to). */
export function getPath<K extends GetRoute>(path: HubPath<K>, opts: { token?: string | null; signal?: AbortSignal } = {}): Promise<Reply<K>> {
  return request<Reply<K>>(path, { token: opts.token, signal: opts.signal });
}
