import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { newId } from '@warden/contract';
import { hashPassword, verifyNothing, verifyPassword } from '../../auth/passwords.ts';
import { passwordProblem } from '../../auth/password-policy.ts';
import { HubError } from '../../errors.ts';
import { userOf } from '../access.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

/** The synthetic event the login route hands the alarm engine when an account locks (rule login-lockout). */
export const LOCKOUT_EVENT = 'auth.lockout';

export const authRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.post(
    '/api/auth/login',
    {
      config: { access: 'public' },
      schema: { ...route('POST /api/auth/login', 400, 401, 429), tags: ['auth'] },
    },
    async (req) => {
      const { username, password } = req.body;
      const key = `${username}|${req.ip}`;
      const wait = s.limiter.blockedFor(key);
      if (wait > 0) {
        s.metrics.loginFailures.inc({ reason: 'rate_limited' });
        const err = new HubError('too_many_attempts', wait);
        err.headers['retry-after'] = String(wait);
        throw err;
      }
      const now = s.clock();
      const account = s.users.account(username);
      if (account?.lockedUntil != null) {
        if (account.lockedUntil > now) {
          const secs = Math.max(1, Math.ceil((account.lockedUntil - now) / 1000));
          s.metrics.loginFailures.inc({ reason: 'locked' });
          s.audit.record(username, 'login.refused_locked', username, { ip: req.ip });
          const err = new HubError('account_locked', secs);
          err.headers['retry-after'] = String(secs);
          throw err;
        }
        s.users.lock(username, null);
      }
      const hash = s.users.passwordHash(username);
      const ok = hash ? await verifyPassword(hash, password) : await verifyNothing(password);
      const user = ok ? s.users.get(username) : null;
      if (!user) {
        s.limiter.fail(key);
        s.metrics.loginFailures.inc({ reason: 'bad_credentials' });
        s.audit.record(username, 'login.failure', username, { ip: req.ip, knownUser: hash !== null });
        if (account && s.lockout.fail(username)) {
          const until = now + s.lockout.windowMs;
          s.users.lock(username, until);
          s.audit.record('system', 'user.locked', username, { ip: req.ip, failures: s.lockout.threshold, until });
          s.alarms.engine.handle({
            id: newId(),
            seq: 0,
            gateway: 'hub',
            device: 'hub',
            type: LOCKOUT_EVENT,
            ts: now,
            receivedAt: now,
            data: { username, ip: req.ip, failures: s.lockout.threshold, until },
          });
        }
        throw new HubError('bad_credentials');
      }
      s.limiter.succeed(key);
      s.lockout.reset(username);
      s.audit.record(username, 'login.success', username, { ip: req.ip });
      return { token: await s.tokens.sign(username, account?.sessionVersion ?? 0), user };
    },
  );

  app.get(
    '/api/me',
    {
      config: { access: [] },
      schema: { ...route('GET /api/me', 401), tags: ['auth'], security: [{ bearer: [] }] },
    },
    async (req) => userOf(req),
  );

  app.post(
    '/api/auth/password',
    { schema: { ...route('POST /api/auth/password', 400, 401), tags: ['auth'], security: [{ bearer: [] }] } },
    async (req) => {
      const me = userOf(req);
      const hash = s.users.passwordHash(me.username);
      if (!hash || !(await verifyPassword(hash, req.body.current))) {
        s.audit.record(me.username, 'user.password_change_refused', me.username, { ip: req.ip });
        throw new HubError('bad_credentials');
      }
      const problem = passwordProblem(req.body.password, me.username);
      if (problem) throw new HubError('weak_password', problem);
      s.users.setPasswordHash(me.username, await hashPassword(req.body.password));
      s.users.revoke(me.username);
      s.audit.record(me.username, 'user.password_change', me.username, { ip: req.ip });
      const account = s.users.account(me.username)!;
      return { token: await s.tokens.sign(me.username, account.sessionVersion), user: s.users.get(me.username)! };
    },
  );

  app.post(
    '/api/auth/logout',
    { schema: { ...route('POST /api/auth/logout', 401), tags: ['auth'], security: [{ bearer: [] }] } },
    async (req, reply) => {
      const me = userOf(req);
      s.users.revoke(me.username);
      s.audit.record(me.username, 'user.logout_everywhere', me.username, { ip: req.ip });
      return reply.code(204).send(null);
    },
  );
};
