import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { verifyNothing, verifyPassword } from '../../auth/passwords.ts';
import { HubError } from '../../errors.ts';
import { userOf } from '../access.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

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
      const hash = s.users.passwordHash(username);
      const ok = hash ? await verifyPassword(hash, password) : await verifyNothing(password);
      const user = ok ? s.users.get(username) : null;
      if (!user) {
        s.limiter.fail(key);
        s.metrics.loginFailures.inc({ reason: 'bad_credentials' });
        s.audit.record(username, 'login.failure', username, { ip: req.ip, knownUser: hash !== null });
        throw new HubError('bad_credentials');
      }
      s.limiter.succeed(key);
      s.audit.record(username, 'login.success', username, { ip: req.ip });
      return { token: await s.tokens.sign(username), user };
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
};
