import type { FastifyRequest } from 'fastify';
import type { ApiApp } from './services.ts';
import type { Role } from '../config.ts';
import { HubError } from '../errors.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { User, UserRepo } from '../auth/users.ts';

/**
 * Who may call a route, declared in its `config.access`:
 * 'public' anyone; 'local' anyone on the hub's own host, else an admin; a role list: a logged-in user holding one
 * of them (an empty list: any logged-in user). admin may do everything.
 */
export type Access = 'public' | 'local' | readonly Role[];

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

export function registerAccess(app: ApiApp, d: { tokens: TokenService; users: UserRepo }): void {
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config.access;
    // Routes without a declaration are the console's static files and the not-found handler.
    if (access === undefined || access === 'public') return;
    if (access === 'local' && LOOPBACK.has(req.socket.remoteAddress ?? '')) return;
    const username = await d.tokens.verify(bearer(req));
    // Roles are read from the user record on every request, so a change takes effect without a new login.
    const user = username ? d.users.get(username) : null;
    if (!user) throw new HubError('unauthorized');
    req.user = user;
    const roles: readonly Role[] = access === 'local' ? ['admin'] : access;
    if (roles.length > 0 && !user.roles.includes('admin') && !roles.some((r) => user.roles.includes(r))) throw new HubError('forbidden');
  });
}

/** The logged-in user of a route that declared a role list (the access hook guarantees it). */
export function userOf(req: FastifyRequest): User {
  if (!req.user) throw new HubError('unauthorized');
  return req.user;
}
