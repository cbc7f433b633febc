import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { videoPath } from '@warden/contract';
import { userOf } from '../api/access.ts';
import { route } from '../api/schemas.ts';
import type { ApiServices } from '../api/services.ts';
import { HubError } from '../errors.ts';
import { nodeOf } from './config.ts';
import { mayView } from './access.ts';
import { HUB_AUDIENCE, loadOrCreateTicketKeys, signTicket } from './tickets.ts';

/**
 * POST /api/cameras/:id/live: the same checks as the relay's (role in VIDEO_ROLES, camera in the user's scope), then
 * a view ticket signed with the hub's key for the relay serving the camera: a node in `video.nodes` listing it
 * (its URL), else the hub's own relay (a path on the console's origin). Each issued ticket is audited (`video.view`).
 */
export const videoRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  const { privateKey } = loadOrCreateTicketKeys(s.config.dataDir);
  const video = s.config.video;
  app.post(
    '/api/cameras/:id/live',
    { schema: { ...route('POST /api/cameras/:id/live', 401, 403, 404), tags: ['cameras'], security: [{ bearer: [] }] } },
    async (req) => {
      const user = userOf(req);
      const camera = req.params.id;
      const may = mayView(user, camera, s.devices);
      if (!may.ok) throw new HubError('forbidden');
      const node = nodeOf(video, camera);
      if (!node && !video.cameras[camera]?.url) throw new HubError('not_found', `live video source for camera ${camera}`);
      const aud = node?.id ?? HUB_AUDIENCE;
      const { ticket, claims } = signTicket(privateKey, { sub: user.username, cam: camera, aud, now: s.clock(), ttlMs: video.ticketSeconds * 1000 });
      s.audit.record(user.username, 'video.view', camera, { relay: aud, ip: req.ip }, claims.iat);
      return { url: `${node?.url ?? ''}${videoPath(camera)}`, ticket, expiresAt: claims.exp, relay: aud };
    },
  );
};
