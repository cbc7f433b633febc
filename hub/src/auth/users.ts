import { EventEmitter } from 'node:events';
import type { Scope } from '@warden/contract';
import type { Role } from '../config.ts';
import type { StateDb } from '../store/state-db.ts';
import type { FailureStore } from './login-limiter.ts';

export interface User {
  username: string;
  displayName: string;
  roles: Role[];
  /** Where the user may act (empty: everywhere). Admin is never narrowed. */
  scope: Scope;
}

export interface UserAccount extends User {
  disabled: boolean;
  lockedUntil: number | null;
  createdAt: number;
  sessionVersion: number;
}

interface Row {
  username: string;
  display_name: string;
  roles: string;
  password_hash: string;
  scope: string;
  disabled: number;
  session_version: number;
  locked_until: number | null;
  created_at: number;
}

const COLS = 'username, display_name, roles, password_hash, scope, disabled, session_version, locked_until, created_at';

/** A security supervisor holds every right of security staff (the routes and the live feed check `security`). */
export function effectiveRoles(roles: readonly Role[]): Role[] {
  return roles.includes('supervisor') && !roles.includes('security') ? [...roles, 'security'] : [...roles];
}

function account(r: Row): UserAccount {
  return {
    username: r.username,
    displayName: r.display_name,
    roles: JSON.parse(r.roles) as Role[],
    scope: JSON.parse(r.scope) as Scope,
    disabled: r.disabled === 1,
    lockedUntil: r.locked_until,
    createdAt: r.created_at,
    sessionVersion: r.session_version,
  };
}

/**
 * Console accounts in state.db. Each has a session version: a login token carries the version it was issued
 * under, and bumping it (log out everywhere, password change, disable, role or scope change) ends every session.
 * `revoked` is emitted with the username so the live feed can drop the user's open sockets.
 */
export class UserRepo extends EventEmitter<{ revoked: [string] }> implements FailureStore {
  private readonly q;
  constructor(db: StateDb) {
    super();
    this.q = {
      get: db.prepare<[string], Row>(`SELECT ${COLS} FROM users WHERE username = ?`),
      all: db.prepare<[], Row>(`SELECT ${COLS} FROM users ORDER BY username`),
      insert: db.prepare('INSERT INTO users (username, display_name, roles, password_hash, scope, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users'),
      update: db.prepare<[string, string, string, number, string]>('UPDATE users SET display_name = ?, roles = ?, scope = ?, disabled = ? WHERE username = ?'),
      setHash: db.prepare<[string, string]>('UPDATE users SET password_hash = ? WHERE username = ?'),
      bump: db.prepare<[string]>('UPDATE users SET session_version = session_version + 1 WHERE username = ?'),
      lock: db.prepare<[number | null, string]>('UPDATE users SET locked_until = ? WHERE username = ?'),
      addFailure: db.prepare<[string, number]>('INSERT INTO login_failures (username, at) VALUES (?, ?)'),
      failures: db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM login_failures WHERE username = ? AND at > ?'),
      clearFailures: db.prepare<[string]>('DELETE FROM login_failures WHERE username = ?'),
      pruneFailures: db.prepare<[number]>('DELETE FROM login_failures WHERE at <= ?'),
    };
  }

  /** The active user (null when unknown or disabled). */
  get(username: string): User | null {
    const a = this.account(username);
    return a && !a.disabled ? { username: a.username, displayName: a.displayName, roles: effectiveRoles(a.roles), scope: a.roles.includes('admin') ? {} : a.scope } : null;
  }

  account(username: string): UserAccount | null {
    const r = this.q.get.get(username);
    return r ? account(r) : null;
  }

  list(): UserAccount[] {
    return this.q.all.all().map(account);
  }

  passwordHash(username: string): string | null {
    return this.q.get.get(username)?.password_hash ?? null;
  }

  exists(username: string): boolean {
    return this.q.get.get(username) !== undefined;
  }

  create(u: { username: string; displayName: string; roles: Role[]; scope?: Scope }, passwordHash: string, now = Date.now()): void {
    this.q.insert.run(u.username, u.displayName, JSON.stringify(u.roles), passwordHash, JSON.stringify(u.scope ?? {}), now);
  }

  update(username: string, c: { displayName?: string; roles?: Role[]; scope?: Scope; disabled?: boolean }): UserAccount | null {
    const a = this.account(username);
    if (!a) return null;
    this.q.update.run(c.displayName ?? a.displayName, JSON.stringify(c.roles ?? a.roles), JSON.stringify(c.scope ?? a.scope), (c.disabled ?? a.disabled) ? 1 : 0, username);
    const changed =
      (c.roles !== undefined && JSON.stringify(c.roles) !== JSON.stringify(a.roles)) ||
      (c.scope !== undefined && JSON.stringify(c.scope) !== JSON.stringify(a.scope)) ||
      (c.disabled !== undefined && c.disabled !== a.disabled);
    if (changed) this.revoke(username);
    return this.account(username);
  }

  setPasswordHash(username: string, hash: string): void {
    this.q.setHash.run(hash, username);
  }

  /** Ends every session of the user: tokens issued before stop working, open live connections are dropped. */
  revoke(username: string): void {
    this.q.bump.run(username);
    this.emit('revoked', username);
  }

  lock(username: string, until: number | null): void {
    this.q.lock.run(until, username);
  }

  // Failed logins (account lockout, hub/src/auth/login-limiter.ts): in state.db so a restart does not reset them.
  addFailure(username: string, at: number): void {
    this.q.addFailure.run(username, at);
  }

  failuresSince(username: string, since: number): number {
    return this.q.failures.get(username, since)!.n;
  }

  clearFailures(username: string): void {
    this.q.clearFailures.run(username);
  }

  pruneFailures(before: number): void {
    this.q.pruneFailures.run(before);
  }
}
