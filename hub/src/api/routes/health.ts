import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiServices } from '../services.ts';

export const healthRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/health',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Liveness and a few numbers',
        tags: ['hub'],
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            version: Type.String(),
            uptimeS: Type.Integer(),
            mqttClients: Type.Integer(),
            gatewaysOnline: Type.Integer(),
          }),
        },
      },
    },
    async () => ({
      status: 'ok' as const,
      version: s.version,
      uptimeS: Math.floor((Date.now() - s.startedAt) / 1000),
      mqttClients: s.mqttClients(),
      gatewaysOnline: s.gateways.countOnline(),
    }),
  );

  app.get(
    '/api/metrics',
    {
      config: { access: 'local' },
      schema: {
        summary: 'Prometheus metrics (open on the hub host, admin elsewhere)',
        tags: ['hub'],
        produces: ['text/plain'],
        security: [{ bearer: [] }],
        response: { 200: Type.String({ description: 'Prometheus text exposition format' }) },
      },
    },
    async (_req, reply) => {
      reply.type(s.metrics.registry.contentType);
      return s.metrics.registry.metrics();
    },
  );
};
