import { compile, isValidGatewayId, type Scope } from '@warden/contract';
import type { AuditLog } from './audit.ts';
import { hashPassword, randomPassword, verifyPassword } from './auth/passwords.ts';
import type { UserRepo } from './auth/users.ts';
import type { CertRevocations } from './broker/revocations.ts';
import { HubError } from './errors.ts';
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
export interface RotatedGateway {
  id: string;
  /** The new password, shown once. */
  password: string;
  /** Live MQTT sessions closed: the gateway must log in again with the new credential. */
  disconnected: number;
}

export class Provisioning {
  /** Closes a gateway's live MQTT sessions; set once the broker runs (hub.ts). */
  disconnect: (gatewayId: string) => number = () => 0;

  constructor(private readonly d: { gateways: GatewayRepo; users: UserRepo; audit: AuditLog; revocations?: CertRevocations; clock?: () => number }) {}

  /**
   * Rotates a gateway's MQTT password without a restart (issue 9): the new hash applies to the next CONNECT, the
   * live session is closed at once, so the gateway must reconnect with the new password; the old one is refused.
   */
  async rotateGateway(id: string, password: string | undefined, actor: string): Promise<RotatedGateway> {
    const { gateways, audit } = this.d;
    if (!isValidGatewayId(id) || !gateways.exists(id)) throw new HubError('not_found', `gateway ${id}`);
    const pw = password ?? randomPassword();
    if (pw.length < 8) throw new HubError('weak_password', 'a gateway password needs at least 8 characters');
    gateways.setPassword(id, await hashPassword(pw), null);
    const disconnected = this.disconnect(id);
    audit.record(actor, 'gateway.credentials_rotated', id, { disconnected, generated: password === undefined });
    return { id, password: pw, disconnected };
  }

  /** Revokes one client certificate of a gateway by its SHA-256 fingerprint and closes the gateway's live sessions. */
  revokeGatewayCert(id: string, fingerprint: string, actor: string): { id: string; fingerprint: string; disconnected: number } {
    const { gateways, audit, revocations } = this.d;
    if (!revocations) throw new Error('certificate revocation is not configured');
    if (!isValidGatewayId(id) || !gateways.exists(id)) throw new HubError('not_found', `gateway ${id}`);
    const fp = fingerprint.replace(/:/g, '').toLowerCase();
    const added = revocations.revoke(id, fp, actor, (this.d.clock ?? Date.now)());
    const disconnected = this.disconnect(id);
    audit.record(actor, 'gateway.certificate_revoked', id, { fingerprint: fp, alreadyRevoked: !added, disconnected });
    return { id, fingerprint: fp, disconnected };
  }

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
    // A reset password applies live too: the gateway's open session (logged in with the old one) is closed.
    if (existing) this.disconnect(id);
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
