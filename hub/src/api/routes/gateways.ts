import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { userOf } from '../access.ts';
import { GatewaySchema, errors } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

export const gatewayRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/gateways',
    {
      config: { access: [] },
      schema: {
        summary: 'Gateways with their availability and backlog',
        tags: ['gateways'],
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ gateways: Type.Array(GatewaySchema) }), ...errors(401) },
      },
    },
    async () => ({ gateways: s.gateways.list() }),
  );

  app.post(
    '/api/gateways',
    {
      config: { access: ['admin'] },
      schema: {
        summary: 'Provision a gateway; its MQTT password is returned once',
        tags: ['gateways'],
        security: [{ bearer: [] }],
        body: Type.Object(
          { id: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' }), name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ id: Type.String(), password: Type.String() }), ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const actor = userOf(req).username;
      const created = await s.createGateway(req.body.id, req.body.name);
      s.audit.record(actor, 'gateway.create', created.id, { name: req.body.name ?? null });
      reply.code(201);
      return created;
    },
  );
};
