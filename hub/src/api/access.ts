import type { FastifyRequest } from 'fastify';
import type { ApiApp } from './services.ts';
import { HubError } from '../errors.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { User, UserRepo } from '../auth/users.ts';
import { inScope, isPersonEvent, isScoped, policyOf, roleAllows, seesPeople, type RoutePolicy } from '../auth/policy.ts';
import type { DeviceRepo } from '../store/devices.ts';
import type { AlarmRepo } from '../alarms/store.ts';
import type { AuditLog } from '../audit.ts';

/**
 * Legacy per-route declaration, kept so route plugins still type-check; the decision is made by the one policy
 * table (hub/src/auth/policy.ts), not by this.
 */
export type Access = 'public' | 'local' | readonly string[];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    user: User | null;
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1]! : null;
}

export interface AccessDeps {
  tokens: TokenService;
  users: UserRepo;
  devices: DeviceRepo;
  alarms: { repo: AlarmRepo };
  audit: AuditLog;
}

/**
 * Authorisation in one place: every /api route must have an entry in ROUTE_POLICY (a route without one fails the
 * start); onRequest authenticates (token signature, expiry, session version, account enabled) and applies the
 * role gate; preHandler refuses objects outside the user's scope; preSerialization narrows list answers to it.
 */
export function registerAccess(app: ApiApp, d: AccessDeps): void {
  app.decorateRequest('user', null);
  app.addHook('onRoute', (r) => {
    if (!r.url.startsWith('/api/')) return;
    for (const m of [r.method].flat()) {
      if (!policyOf(m, r.url)) throw new Error(`route ${m} ${r.url} has no entry in the access policy (hub/src/auth/policy.ts)`);
    }
  });
  const policy = (req: FastifyRequest): RoutePolicy | undefined => (req.routeOptions.url ? policyOf(req.method, req.routeOptions.url) : undefined);

  app.addHook('onRequest', async (req) => {
    const pol = policy(req);
    // Routes without a policy are the console's static files and the not-found handler.
    if (!pol || pol.who === 'public') return;
    if (pol.who === 'local' && LOOPBACK.has(req.socket.remoteAddress ?? '')) return;
    // Checked on every request: a revoked, disabled or changed account stops working at once.
    const user = await d.tokens.session(bearer(req), d.users);
    if (!user) throw new HubError('unauthorized');
    req.user = user;
    if (!roleAllows(pol.who, user.roles)) throw new HubError('forbidden');
  });

  const deviceInScope = (user: User, id: string | undefined) => {
    if (id === undefined) return true;
    const dev = d.devices.get(id);
    // An unknown device is the handler's 404, not a scope question.
    return !dev || inScope(user.scope, dev);
  };
  app.addHook('preHandler', async (req) => {
    const pol = policy(req);
    const user = req.user;
    if (!pol || !user || !isScoped(user.scope)) return;
    const params = (req.params ?? {}) as Record<string, unknown>;
    if (pol.scope === 'device') {
      const id = typeof params.id === 'string' ? params.id : (req.query as Record<string, unknown> | undefined)?.device;
      if (!deviceInScope(user, typeof id === 'string' ? id : undefined)) throw new HubError('forbidden');
    }
    if (pol.scope === 'alarm') {
      const body = (req.body ?? {}) as { ids?: unknown };
      const ids = typeof params.id === 'string' ? [params.id] : Array.isArray(body.ids) ? (body.ids as string[]) : [];
      for (const id of ids) {
        const a = d.alarms.repo.get(id);
        if (a && !inScope(user.scope, a)) throw new HubError('forbidden');
      }
    }
  });

  // Reads of face and person data are audited (who read which record or list), after a successful answer.
  app.addHook('onResponse', async (req, reply) => {
    const pol = policy(req);
    if (!pol?.auditRead || !req.user || reply.statusCode >= 400) return;
    const params = (req.params ?? {}) as Record<string, unknown>;
    d.audit.record(req.user.username, 'read.person_data', typeof params.id === 'string' ? params.id : null, { route: `${req.method} ${req.routeOptions.url ?? ''}`, ip: req.ip });
  });

  app.addHook('preSerialization', async (req, _reply, payload: unknown) => {
    const pol = policy(req);
    const user = req.user;
    if (!pol || pol.scope !== 'filter' || !user || !payload || typeof payload !== 'object') return payload;
    const scoped = isScoped(user.scope);
    const people = seesPeople(user.roles);
    if (!scoped && people) return payload;
    const out: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
    for (const [k, v] of Object.entries(out)) {
      if (!Array.isArray(v)) continue;
      out[k] = v.filter((item: unknown) => {
        if (!item || typeof item !== 'object') return true;
        const o = item as { building?: string | null; zone?: string | null; device?: string; type?: string; data?: Record<string, unknown> };
        if (!people && typeof o.type === 'string' && isPersonEvent(o as { type: string })) return false;
        if (!scoped) return true;
        if ('building' in o || 'zone' in o) return inScope(user.scope, o);
        if (typeof o.device === 'string') {
          const dev = d.devices.get(o.device);
          return dev ? inScope(user.scope, dev) : false;
        }
        return true;
      });
    }
    return out;
  });
}

/** The logged-in user of a route that declared a role list (the access hook guarantees it). */
export function userOf(req: FastifyRequest): User {
  if (!req.user) throw new HubError('unauthorized');
  return req.user;
}
