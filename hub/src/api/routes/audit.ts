import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AuditEntrySchema, errors } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

export const auditRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/audit',
    {
      config: { access: ['admin'] },
      schema: {
        summary: 'Audit log, newest first',
        tags: ['audit'],
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            before: Type.Optional(Type.Integer({ minimum: 1, description: 'entries with an id below this' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ entries: Type.Array(AuditEntrySchema) }), ...errors(400, 401, 403) },
      },
    },
    async (req) => ({ entries: s.audit.list(req.query.limit ?? 100, req.query.before) }),
  );
};
