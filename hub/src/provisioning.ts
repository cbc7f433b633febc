import { compile, isValidGatewayId, type Scope } from '@warden/contract';
import type { AuditLog } from './audit.ts';
import { hashPassword, randomPassword, verifyPassword } from './auth/passwords.ts';
import type { UserRepo } from './auth/users.ts';
import { UserSchema, type HubConfig, type Role } from './config.ts';
import type { GatewayRepo } from './store/gateways.ts';

const userV = compile(UserSchema);

export interface NewUser {
  username: string;
  displayName?: string;
  roles: Role[];
  scope?: Scope;
  password: string;
}

/** Gateway credentials and user accounts: created from the config at start, by the API, and by `Hub` callers. */
export class Provisioning {
  constructor(private readonly d: { gateways: GatewayRepo; users: UserRepo; audit: AuditLog }) {}

  /** Creates the gateway, or resets its password (and name) when it exists. Without a password one is generated. */
  async gateway(id: string, name?: string, password?: string, actor = 'system'): Promise<{ id: string; password: string }> {
    const { gateways, audit } = this.d;
    if (!isValidGatewayId(id)) throw new Error(`invalid gateway id ${JSON.stringify(id)}`);
    const pw = password ?? randomPassword();
    if (pw.length < 8) throw new Error('a gateway password needs at least 8 characters');
    const existing = gateways.passwordHash(id);
    if (existing && (await verifyPassword(existing, pw))) {
      if (name !== undefined) gateways.setPassword(id, existing, name);
      return { id, password: pw };
    }
    const hash = await hashPassword(pw);
    if (existing) gateways.setPassword(id, hash, name ?? null);
    else gateways.create(id, name ?? null, hash);
    audit.record(actor, existing ? 'gateway.password_reset' : 'gateway.create', id, { name: name ?? null });
    return { id, password: pw };
  }

  async user(u: NewUser, actor = 'system'): Promise<void> {
    const { users, audit } = this.d;
    if (!userV.check(u)) throw new Error(`invalid user: ${userV.explain(u)}`);
    if (users.exists(u.username)) throw new Error(`user ${u.username} already exists`);
    users.create({ username: u.username, displayName: u.displayName ?? u.username, roles: [...u.roles], ...(u.scope ? { scope: u.scope } : {}) }, await hashPassword(u.password));
    audit.record(actor, 'user.create', u.username, { roles: u.roles, scope: u.scope ?? {} });
  }

  /**
   * The config's admin, users and gateways. Returns the admin password when it was generated here (the first start
   * without `admin.password`), to be shown once.
   */
  async fromConfig(config: HubConfig): Promise<string | undefined> {
    const { users } = this.d;
    let initialAdminPassword: string | undefined;
    if (!users.exists('admin')) {
      const password = config.admin.password ?? randomPassword(12);
      if (!config.admin.password) initialAdminPassword = password;
      await this.user({ username: 'admin', displayName: 'Administrator', roles: ['admin'], password });
    }
    for (const u of config.users) if (!users.exists(u.username)) await this.user({ ...u, roles: [...u.roles] }, 'config');
    await Promise.all(config.gateways.map((g) => this.gateway(g.id, g.name, g.password, 'config')));
    return initialAdminPassword;
  }
}
