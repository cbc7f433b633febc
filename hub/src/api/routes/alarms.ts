import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HubError } from '../../errors.ts';
import { userOf } from '../access.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

const list = (s: string | undefined) => (s === undefined ? undefined : s.split(','));

export const alarmRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  const tags = ['alarms'];
  const security = [{ bearer: [] }];

  app.get(
    '/api/alarms',
    {
      config: { access: [] },
      schema: {
        ...route('GET /api/alarms', 400, 401),
        tags,
        security,
      },
    },
    async (req) => {
      const q = req.query;
      const page = s.alarms.repo.query({
        state: q.state,
        priorities: list(q.priority),
        types: list(q.type),
        building: q.building,
        device: q.device,
        q: q.q,
        from: q.from,
        to: q.to,
        limit: q.limit ?? 100,
        before: q.before === undefined ? undefined : Number(q.before),
      });
      return { alarms: page.alarms, next: page.next === null ? null : String(page.next) };
    },
  );

  app.get(
    '/api/alarms/:id',
    {
      config: { access: [] },
      schema: {
        ...route('GET /api/alarms/:id', 401, 404),
        tags,
        security,
      },
    },
    async (req) => {
      const a = s.alarms.engine.get(req.params.id);
      if (!a) throw new HubError('not_found', `alarm ${req.params.id}`);
      return a;
    },
  );

  app.post(
    '/api/alarms/acknowledge',
    {
      config: { access: ['security'] },
      schema: {
        ...route('POST /api/alarms/acknowledge', 400, 401, 403),
        tags,
        security,
      },
    },
    async (req) => s.alarms.engine.acknowledgeMany(req.body.ids, userOf(req).username, req.body.note ?? null),
  );

  app.post(
    '/api/alarms/:id/acknowledge',
    {
      config: { access: ['security'] },
      schema: {
        ...route('POST /api/alarms/:id/acknowledge', 400, 401, 403, 404, 409),
        tags,
        security,
      },
    },
    async (req) => s.alarms.engine.acknowledge(req.params.id, userOf(req).username, req.body?.note ?? null),
  );

  app.post(
    '/api/alarms/:id/resolve',
    {
      config: { access: ['security'] },
      schema: {
        ...route('POST /api/alarms/:id/resolve', 400, 401, 403, 404, 409),
        tags,
        security,
      },
    },
    async (req) => s.alarms.engine.resolve(req.params.id, userOf(req).username, req.body.note),
  );
};
