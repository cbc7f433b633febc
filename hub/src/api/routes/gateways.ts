import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HubError } from '../../errors.ts';
import { inScope, isScoped } from '../../auth/policy.ts';
import { userOf } from '../access.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

export const gatewayRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/gateways',
    {
      config: { access: [] },
      schema: { ...route('GET /api/gateways', 401), tags: ['gateways'], security: [{ bearer: [] }] },
    },
    // A user scoped to buildings/zones sees only the gateways with at least one device in their scope.
    async (req) => {
      const scope = userOf(req).scope;
      const all = s.gateways.list();
      if (!isScoped(scope)) return { gateways: all };
      const visible = new Set(s.devices.list().filter((d) => inScope(scope, d)).map((d) => d.gateway));
      return { gateways: all.filter((g) => visible.has(g.id)) };
    },
  );

  app.post(
    '/api/gateways',
    {
      config: { access: ['admin'] },
      schema: { ...route('POST /api/gateways', 400, 401, 403, 409), tags: ['gateways'], security: [{ bearer: [] }] },
    },
    async (req, reply) => {
      const actor = userOf(req).username;
      const created = await s.createGateway(req.body.id, req.body.name);
      s.audit.record(actor, 'gateway.create', created.id, { name: req.body.name ?? null });
      reply.code(201);
      return created;
    },
  );

  // Both audited by the provisioning service (gateway.credentials_rotated / gateway.certificate_revoked).
  app.post(
    '/api/gateways/:id/credentials',
    {
      config: { access: ['admin'] },
      schema: { ...route('POST /api/gateways/:id/credentials', 400, 401, 403, 404), tags: ['gateways'], security: [{ bearer: [] }] },
    },
    async (req) => {
      if (!s.gatewayCredentials) throw new HubError('not_found', 'credential service');
      return s.gatewayCredentials.rotate(req.params.id, req.body.password, userOf(req).username);
    },
  );

  app.post(
    '/api/gateways/:id/certificates/revoke',
    {
      config: { access: ['admin'] },
      schema: { ...route('POST /api/gateways/:id/certificates/revoke', 400, 401, 403, 404), tags: ['gateways'], security: [{ bearer: [] }] },
    },
    async (req) => {
      if (!s.gatewayCredentials) throw new HubError('not_found', 'credential service');
      return s.gatewayCredentials.revokeCert(req.params.id, req.body.fingerprint, userOf(req).username);
    },
  );
};
