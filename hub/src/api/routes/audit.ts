import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';
import { userOf } from '../access.ts';

/** The audit actions facilities staff may read: their own domain (schedules, overrides, their commands, demand limiting). */
export const FACILITIES_AUDIT_PREFIXES = ['schedule.', 'demand.'] as const;

/**
 * Narrows the requested action prefixes to what the roles may read. Admin: as asked (none asked: everything).
 * Others: the facilities prefixes, or the asked ones within them (an asked `sched` reads as `schedule.`).
 */
export function auditScope(roles: readonly string[], asked: readonly string[] | undefined): readonly string[] | undefined {
  if (roles.includes('admin')) return asked;
  if (asked === undefined) return FACILITIES_AUDIT_PREFIXES;
  return [...new Set(asked.flatMap((r) => FACILITIES_AUDIT_PREFIXES.flatMap((a) => (r.startsWith(a) ? [r] : a.startsWith(r) ? [a] : []))))];
}

export const auditRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/audit',
    {
      config: { access: ['facilities'] },
      schema: { ...route('GET /api/audit', 400, 401, 403), tags: ['audit'], security: [{ bearer: [] }] },
    },
    async (req) => {
      const scope = auditScope(userOf(req).roles, req.query.action?.split(','));
      return { entries: s.audit.list(req.query.limit ?? 100, req.query.before, scope) };
    },
  );
};
