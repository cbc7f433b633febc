import { route } from '../schemas.ts';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiServices } from '../services.ts';

export const healthRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/health',
    {
      config: { access: 'public' },
      schema: { ...route('GET /api/health'), tags: ['hub'] },
    },
    async () => ({
      status: 'ok' as const,
      version: s.version,
      uptimeS: Math.floor((s.clock() - s.startedAt) / 1000),
      mqttClients: s.mqttClients(),
      gatewaysOnline: s.gateways.countOnline(),
    }),
  );

  app.get(
    '/api/metrics',
    {
      config: { access: 'local' },
      schema: {
        ...route('GET /api/metrics'),
        tags: ['hub'],
        produces: ['text/plain'],
        security: [{ bearer: [] }],
      },
    },
    async (_req, reply) => {
      reply.type(s.metrics.registry.contentType);
      return s.metrics.registry.metrics();
    },
  );
};
