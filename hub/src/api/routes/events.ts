import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EventSchema, MsEpoch, errors } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

export const eventRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/events',
    {
      config: { access: [] },
      schema: {
        summary: 'Stored events, newest arrival first, in pages',
        tags: ['events'],
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            from: Type.Optional(MsEpoch('source time >= from (ms epoch)')),
            to: Type.Optional(MsEpoch('source time <= to (ms epoch)')),
            device: Type.Optional(Type.String({ maxLength: 128 })),
            gateway: Type.Optional(Type.String({ maxLength: 64 })),
            type: Type.Optional(Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+|\\.\\*)?$', maxLength: 64, description: 'exact type or a family such as door.*' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'the `next` cursor of the previous page' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ events: Type.Array(EventSchema), next: Type.Union([Type.String(), Type.Null()]) }), ...errors(400, 401) },
      },
    },
    async (req) => {
      const q = req.query;
      const page = s.events.query({
        from: q.from,
        to: q.to,
        device: q.device,
        gateway: q.gateway,
        type: q.type,
        limit: q.limit ?? 100,
        before: q.before === undefined ? undefined : Number(q.before),
      });
      return { events: page.events, next: page.next === null ? null : String(page.next) };
    },
  );
};
