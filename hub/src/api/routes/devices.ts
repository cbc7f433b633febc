import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Device } from '@warden/contract';
import { sendCommand } from '../../commands.ts';
import { HubError } from '../../errors.ts';
import { DeviceStateError } from '../../store/devices.ts';
import { userOf } from '../access.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

export const deviceRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/devices',
    {
      config: { access: [] },
      schema: { ...route('GET /api/devices', 400, 401), tags: ['devices'], security: [{ bearer: [] }] },
    },
    // The registry stores `medium` as text; it only ever holds a contract medium (inventories are validated).
    async (req) => ({ devices: s.devices.list(req.query) as Device[] }),
  );

  app.post(
    '/api/devices/:id/adopt',
    {
      config: { access: ['admin'] },
      schema: { ...route('POST /api/devices/:id/adopt', 400, 401, 403, 404), tags: ['devices'], security: [{ bearer: [] }] },
    },
    async (req) => {
      const user = userOf(req);
      const before = s.devices.get(req.params.id);
      if (!before) throw new HubError('not_found', 'device');
      const { kind, building, zone, name } = req.body;
      const device = s.devices.register({ id: before.id, gateway: before.gateway, kind, building, zone, name }, s.clock());
      s.audit.record(user.username, 'device.adopt', device.id, {
        gateway: device.gateway,
        kind,
        building: building ?? null,
        zone: zone ?? null,
        was: { status: before.status, kind: before.kind, building: before.building, zone: before.zone, ...(before.rejection ? { rejection: before.rejection } : {}) },
      });
      return { device: device as Device };
    },
  );

  // Rejecting a proposal (the trust leftover of issue 9): the hub keeps the device refused, with who and why, until an
  // admin un-rejects or adopts it. Both audited.
  const decided = <T>(f: () => T | null): T => {
    try {
      const out = f();
      if (out === null) throw new HubError('not_found', 'device');
      return out;
    } catch (err) {
      if (err instanceof DeviceStateError) throw new HubError('device_state', err.message);
      throw err;
    }
  };

  app.post(
    '/api/devices/:id/reject',
    {
      config: { access: ['admin'] },
      schema: { ...route('POST /api/devices/:id/reject', 400, 401, 403, 404, 409), tags: ['devices'], security: [{ bearer: [] }] },
    },
    async (req) => {
      const user = userOf(req);
      const reason = req.body.reason.trim();
      if (!reason) throw new HubError('bad_request', 'a reason is required to reject a device');
      const device = decided(() => s.devices.reject(req.params.id, reason, user.username, s.clock()));
      s.audit.record(user.username, 'device.reject', device.id, { gateway: device.gateway, reason, kind: device.kind, driver: device.driver, location: device.location });
      return { device: device as Device };
    },
  );

  app.post(
    '/api/devices/:id/unreject',
    {
      config: { access: ['admin'] },
      schema: { ...route('POST /api/devices/:id/unreject', 401, 403, 404, 409), tags: ['devices'], security: [{ bearer: [] }] },
    },
    async (req) => {
      const user = userOf(req);
      const was = s.devices.get(req.params.id)?.rejection;
      const device = decided(() => s.devices.unreject(req.params.id));
      s.audit.record(user.username, 'device.unreject', device.id, { gateway: device.gateway, was: was ?? null });
      return { device: device as Device };
    },
  );

  app.post(
    '/api/devices/:id/commands',
    {
      config: { access: ['security', 'facilities'] },
      schema: {
        ...route('POST /api/devices/:id/commands', 400, 401, 403, 404, 409),
        description: 'security may command doors, turnstiles and intrusion zones; facilities actuators; admin everything.',
        tags: ['devices'],
        security: [{ bearer: [] }],
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
