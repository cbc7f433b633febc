import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Snapshot } from '@warden/contract';
import { inScope, placeScope, roleAllows } from '../auth/policy.ts';
import type { User } from '../auth/users.ts';
import { userOf } from '../api/access.ts';
import { route } from '../api/schemas.ts';
import type { ApiServices } from '../api/services.ts';
import { HubError } from '../errors.ts';
import type { SnapshotStore } from './store.ts';

/**
 * Who sees a snapshot: alarm snapshots the security roles (security, supervisor, admin); face snapshots the roles
 * that see faces (security roles, and dorm managers for their dorm buildings). Either way the camera must be in the
 * user's place scope (an unregistered camera: only unscoped users).
 */
export function maySee(user: User, snap: Snapshot, s: Pick<ApiServices, 'devices' | 'config'>): boolean {
  if (snap.cause === 'alarm' && !roleAllows(['security'], user.roles)) return false;
  if (snap.cause === 'face' && !roleAllows(['security', 'dorm'], user.roles)) return false;
  const scope = placeScope(user, s.config.faces.dormManagers[user.username] ?? []);
  if (!scope) return true;
  const device = s.devices.get(snap.camera);
  return device != null && inScope(scope, device);
}

/** GET /api/snapshots (index) and GET /api/snapshots/:id (the JPEG); registered by the API with the store. */
export function snapshotRoutes(store: SnapshotStore): FastifyPluginAsyncTypebox<{ s: ApiServices }> {
  return async (app, { s }) => {
    app.get('/api/snapshots', { schema: { ...route('GET /api/snapshots', 400, 401, 403), tags: ['cameras'], security: [{ bearer: [] }] } }, async (req) => {
      const user = userOf(req);
      const limit = req.query.limit ?? 50;
      const rows = store.list({ ...req.query, limit });
      return { snapshots: rows.filter((r) => maySee(user, r, s)) };
    });
    app.get('/api/snapshots/:id', { schema: { ...route('GET /api/snapshots/:id', 401, 403, 404), tags: ['cameras'], security: [{ bearer: [] }] } }, async (req, reply) => {
      const user = userOf(req);
      const snap = store.get(req.params.id);
      if (!snap) throw new HubError('not_found', 'snapshot (unknown, or past retention)');
      if (!maySee(user, snap, s)) throw new HubError('forbidden');
      const jpeg = store.jpeg(snap.id);
      if (!jpeg) throw new HubError('not_found', 'snapshot (unknown, or past retention)');
      return reply.type('image/jpeg').header('cache-control', 'private, max-age=86400').send(jpeg as never);
    });
  };
}
