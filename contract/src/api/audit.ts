import Type, { type Static } from 'typebox';
import { MsEpoch, Nullable, type RouteDef } from './common.ts';

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  ts: MsEpoch(),
  actor: Type.String(),
  action: Type.String(),
  target: Nullable(Type.String()),
  detail: Type.Record(Type.String(), Type.Unknown()),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const AuditQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'entries with an id below this' })),
    action: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, pattern: '^[a-z0-9_.]+(,[a-z0-9_.]+)*$', description: 'comma-separated action prefixes, e.g. `schedule.,demand.`' }),
    ),
  },
  { additionalProperties: false },
);

export const AuditExportQuerySchema = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('jsonl')], { default: 'jsonl' })),
    from: Type.Optional(MsEpoch('entries at or after')),
    to: Type.Optional(MsEpoch('entries before')),
  },
  { additionalProperties: false },
);

export const AUDIT_ROUTES = {
  'GET /api/audit/export': {
    summary: 'The audit trail with its hash chain (id, ts, actor, action, target, detail, prevHash, hash) as CSV or JSON Lines (admin)',
    query: AuditExportQuerySchema,
    response: Type.String(),
  },
  'GET /api/audit': {
    summary: 'Audit log, newest first. Admin reads every entry; facilities staff the energy entries (schedule.*, demand.*)',
    query: AuditQuerySchema,
    response: Type.Object({ entries: Type.Array(AuditEntrySchema) }),
  },
} as const satisfies Record<string, RouteDef>;
