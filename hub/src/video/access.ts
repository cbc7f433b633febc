import { inScope, placeScope, roleAllows } from '../auth/policy.ts';
import type { User } from '../auth/users.ts';
import type { DeviceRepo } from '../store/devices.ts';

/** Roles that may watch live video: security (and supervisor, who holds security's rights); admin always. */
export const VIDEO_ROLES = ['security'] as const;

/** May this user watch this camera? Role in VIDEO_ROLES, camera in the user's place scope (a scoped user: a registered camera). */
export function mayView(user: User, camera: string, devices: DeviceRepo): { ok: true } | { ok: false; reason: string } {
  if (!roleAllows(VIDEO_ROLES, user.roles)) return { ok: false, reason: 'your roles do not include viewing cameras' };
  const scope = placeScope(user);
  if (scope) {
    const device = devices.get(camera);
    if (!(device && inScope(scope, device))) return { ok: false, reason: 'this camera is outside your scope' };
  }
  return { ok: true };
}

