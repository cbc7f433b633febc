import type { Server as HttpServer } from 'node:http';
import { VIDEO_CLOSE } from '@warden/contract';
import { inScope, placeScope, roleAllows } from '../auth/policy.ts';
import type { HubContext } from '../module.ts';
import { loadVideoConfig } from './config.ts';
import { VideoRelay, type VideoAccess } from './relay.ts';

/** Roles that may watch live video: security (and supervisor, who holds security's rights); admin always. */
export const VIDEO_ROLES = ['security'] as const;

/**
 * Starts the live video relay on the hub's HTTP server (called by the API module once its server exists, stopped
 * with it). Sources come from `<dataDir>/video.yaml` (hub/README.md, "Cameras / live video"). Access: a valid
 * session (as REST and socket.io), a role in VIDEO_ROLES, the camera in the user's place scope.
 */
export function startVideoRelay(ctx: HubContext, http: HttpServer): VideoRelay {
  const config = loadVideoConfig(ctx.config.dataDir);
  const { tokens, stores } = ctx;
  const log = ctx.log.child({ part: 'video' });
  const authorize = async (token: string | null, camera: string): Promise<VideoAccess> => {
    const user = await tokens.session(token, stores.users);
    if (!user) return { ok: false, code: VIDEO_CLOSE.unauthorized, reason: 'log in again: the token is missing, expired or revoked' };
    if (!roleAllows(VIDEO_ROLES, user.roles)) return { ok: false, code: VIDEO_CLOSE.forbidden, reason: 'your roles do not include viewing cameras' };
    const scope = placeScope(user);
    if (scope) {
      const device = stores.devices.get(camera);
      if (!(device && inScope(scope, device))) return { ok: false, code: VIDEO_CLOSE.forbidden, reason: 'this camera is outside your scope' };
    }
    return { ok: true, user };
  };
  const relay = new VideoRelay(http, { config, authorize, log, onRefused: (reason) => log.warn({ reason }, 'video: refused') });
  log.info({ cameras: Object.keys(config.cameras).length, maxStreams: config.maxStreams }, 'live video relay ready');
  return relay;
}
