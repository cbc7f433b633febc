import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sendCommand } from '../../commands.ts';
import { userOf } from '../access.ts';
import { DeviceSchema, errors } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

export const deviceRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/devices',
    {
      config: { access: [] },
      schema: {
        summary: 'Registered devices',
        tags: ['devices'],
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            gateway: Type.Optional(Type.String({ maxLength: 64 })),
            kind: Type.Optional(Type.String({ maxLength: 64 })),
            building: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ devices: Type.Array(DeviceSchema) }), ...errors(400, 401) },
      },
    },
    async (req) => ({ devices: s.devices.list(req.query) }),
  );

  app.post(
    '/api/devices/:id/commands',
    {
      config: { access: ['security', 'facilities'] },
      schema: {
        summary: 'Send a command to a device; its result arrives as a command.result event',
        description: 'security may command doors, turnstiles and intrusion zones; facilities actuators; admin everything.',
        tags: ['devices'],
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
        body: Type.Object(
          { action: Type.String({ minLength: 1, maxLength: 64 }), params: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ commandId: Type.String() }), ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req, reply) => {
      const user = userOf(req);
      const params = req.body.params ?? {};
      const sent = await sendCommand(s.commands, user.roles, req.params.id, req.body.action, params);
      s.metrics.commands.inc({ action: sent.action });
      s.audit.record(user.username, 'command.send', req.params.id, { action: sent.action, params, commandId: sent.commandId, gateway: sent.gateway });
      reply.code(202);
      return { commandId: sent.commandId };
    },
  );
};
