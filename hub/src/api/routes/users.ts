import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { hashPassword, randomPassword } from '../../auth/passwords.ts';
import { passwordProblem } from '../../auth/password-policy.ts';
import type { UserAccount } from '../../auth/users.ts';
import { HubError } from '../../errors.ts';
import { userOf } from '../access.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

const tags = ['users'];
const security = [{ bearer: [] }];

/** The wire shape: never the hash or the session version. */
const wire = (a: UserAccount) => ({
  username: a.username,
  displayName: a.displayName,
  roles: a.roles,
  scope: a.scope,
  disabled: a.disabled,
  lockedUntil: a.lockedUntil,
  createdAt: a.createdAt,
});

/** User management (admin; unlock also a security supervisor). Every change is audited. */
export const userRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  const existing = (id: string) => {
    const a = s.users.account(id);
    if (!a) throw new HubError('not_found', `user ${id}`);
    return a;
  };
  const checkPassword = (password: string, username: string) => {
    const problem = passwordProblem(password, username);
    if (problem) throw new HubError('weak_password', problem);
  };

  app.get('/api/users', { schema: { ...route('GET /api/users', 401, 403), tags, security } }, async () => ({ users: s.users.list().map(wire) }));

  app.post('/api/users', { schema: { ...route('POST /api/users', 400, 401, 403, 409), tags, security } }, async (req, reply) => {
    const b = req.body;
    if (s.users.exists(b.username)) throw new HubError('user_exists', b.username);
    const password = b.password ?? randomPassword();
    checkPassword(password, b.username);
    s.users.create({ username: b.username, displayName: b.displayName ?? b.username, roles: [...b.roles], scope: b.scope ?? {} }, await hashPassword(password), s.clock());
    s.audit.record(userOf(req).username, 'user.create', b.username, { roles: b.roles, scope: b.scope ?? {} });
    return reply.code(201).send({ user: wire(existing(b.username)), password });
  });

  app.patch('/api/users/:id', { schema: { ...route('PATCH /api/users/:id', 400, 401, 403, 404), tags, security } }, async (req) => {
    existing(req.params.id);
    const me = userOf(req);
    if (req.params.id === me.username && (req.body.disabled === true || (req.body.roles && !req.body.roles.includes('admin')))) {
      throw new HubError('validation_failed', 'an administrator cannot disable or demote their own account');
    }
    const c = req.body;
    const a = s.users.update(req.params.id, {
      ...(c.displayName !== undefined ? { displayName: c.displayName } : {}),
      ...(c.roles !== undefined ? { roles: [...c.roles] } : {}),
      ...(c.scope !== undefined ? { scope: c.scope } : {}),
      ...(c.disabled !== undefined ? { disabled: c.disabled } : {}),
    })!;
    s.audit.record(me.username, 'user.update', req.params.id, { ...c });
    return wire(a);
  });

  app.post('/api/users/:id/password', { schema: { ...route('POST /api/users/:id/password', 400, 401, 403, 404), tags, security } }, async (req) => {
    existing(req.params.id);
    const password = req.body.password ?? randomPassword();
    checkPassword(password, req.params.id);
    s.users.setPasswordHash(req.params.id, await hashPassword(password));
    s.users.revoke(req.params.id);
    s.audit.record(userOf(req).username, 'user.password_reset', req.params.id, {});
    return { username: req.params.id, password };
  });

  app.post('/api/users/:id/logout', { schema: { ...route('POST /api/users/:id/logout', 401, 403, 404), tags, security } }, async (req, reply) => {
    existing(req.params.id);
    s.users.revoke(req.params.id);
    s.audit.record(userOf(req).username, 'user.logout_everywhere', req.params.id, {});
    return reply.code(204).send(null);
  });

  app.post('/api/users/:id/unlock', { schema: { ...route('POST /api/users/:id/unlock', 401, 403, 404), tags, security } }, async (req) => {
    existing(req.params.id);
    s.users.lock(req.params.id, null);
    s.lockout.reset(req.params.id);
    s.audit.record(userOf(req).username, 'user.unlock', req.params.id, {});
    return wire(existing(req.params.id));
  });
};
