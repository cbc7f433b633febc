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
/** The audit actions a security supervisor may read: logins, lockouts and account changes. */
export const SUPERVISOR_AUDIT_PREFIXES = ['login.', 'user.'] as const;

export function auditScope(roles: readonly string[], asked: readonly string[] | undefined): readonly string[] | undefined {
  if (roles.includes('admin')) return asked;
  const mine: string[] = [...(roles.includes('facilities') ? FACILITIES_AUDIT_PREFIXES : []), ...(roles.includes('supervisor') ? SUPERVISOR_AUDIT_PREFIXES : [])];
  if (asked === undefined) return mine;
  return [...new Set(asked.flatMap((r) => mine.flatMap((a) => (r.startsWith(a) ? [r] : a.startsWith(r) ? [a] : []))))];
}

const CSV_COLUMNS = ['id', 'ts', 'actor', 'action', 'target', 'detail', 'prevHash', 'hash'] as const;
function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Quote always; a leading formula character is defused for spreadsheets.
  return `"${(/^[=+\-@]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"`;
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

  app.get(
    '/api/audit/export',
    { schema: { ...route('GET /api/audit/export', 400, 401, 403), tags: ['audit'], security: [{ bearer: [] }] } },
    async (req, reply) => {
      const format = req.query.format ?? 'jsonl';
      const lines: string[] = format === 'csv' ? [CSV_COLUMNS.join(',')] : [];
      for (const e of s.audit.export(req.query.from, req.query.to)) {
        lines.push(format === 'csv' ? CSV_COLUMNS.map((c) => csvCell(e[c])).join(',') : JSON.stringify(e));
      }
      s.audit.record(userOf(req).username, 'audit.export', null, { format, from: req.query.from ?? null, to: req.query.to ?? null, rows: lines.length - (format === 'csv' ? 1 : 0) });
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="warden-audit.${format}"`)
        .send(lines.join('\n') + '\n');
    },
  );
};
