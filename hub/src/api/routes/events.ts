import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { boundRange } from '../bounds.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

export const eventRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/events',
    {
      config: { access: [] },
      schema: { ...route('GET /api/events', 400, 401), tags: ['events'], security: [{ bearer: [] }] },
    },
    async (req) => {
      const q = req.query;
      if (q.from !== undefined) boundRange({ from: q.from, to: q.to ?? s.clock(), maxDays: s.config.limits.maxRangeDays, what: 'an events query' });
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
