import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { userOf } from '../api/access.ts';
import { route } from '../api/schemas.ts';
import type { ApiServices } from '../api/services.ts';
import { HubError } from '../errors.ts';
import { boardFor } from './module.ts';

/** GET /api/cameras/status: security (and supervisor, admin), in the caller's place scope (checked here). */
export const cameraRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/cameras/status',
    {
      config: { access: ['security'] },
      schema: { ...route('GET /api/cameras/status', 400, 401, 403), tags: ['cameras'], security: [{ bearer: [] }] },
    },
    async (req) => {
      const board = boardFor(s.devices);
      if (!board) throw new HubError('not_found', 'cameras module');
      return board.list(req.query, userOf(req).scope);
    },
  );
};
