import type { AlarmRule } from '../types.ts';

/**
 * An account locked after repeated failed logins (the login route hands the engine an `auth.lockout` event on the
 * hub's own pseudo-device `hub`): someone is guessing a console password (GB 50396: alarm after at most 5 failures).
 * One alarm per account (keyed as the credential), repeated while it keeps locking.
 */
export const loginLockout: AlarmRule = {
  id: 'login-lockout',
  types: ['auth.account_locked'],
  events: ['auth.lockout'],
  create(ctx) {
    return {
      onEvent(e) {
        const username = typeof e.data.username === 'string' ? e.data.username : null;
        if (!username) return;
        ctx.raise({ type: 'auth.account_locked', device: e.device, gateway: 'hub', credential: username, ts: e.ts, event: e, detail: { username, ip: e.data.ip, failures: e.data.failures, until: e.data.until } });
      },
    };
  },
};
