import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SignJWT, jwtVerify } from 'jose';
import type { User, UserRepo } from './users.ts';

const ISSUER = 'warden-hub';

/** The HS256 key is made once per data dir and kept there (0600), so logins survive restarts. */
function loadSecret(dataDir: string): Uint8Array {
  const file = join(dataDir, 'jwt-secret');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length < 32) throw new Error(`${file} holds a key shorter than 256 bits; delete it to make a new one`);
  return key;
}

export class TokenService {
  private readonly key: Uint8Array;
  constructor(
    dataDir: string,
    private readonly ttlMs: number,
  ) {
    this.key = loadSecret(dataDir);
  }

  /** `sv`: the user's session version when issued; a later revocation bumps it and the token stops working. */
  sign(username: string, sessionVersion = 0): Promise<string> {
    return new SignJWT({ sv: sessionVersion })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(username)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor((Date.now() + this.ttlMs) / 1000))
      .sign(this.key);
  }

  /** The username the token was issued to, or null when it is invalid or expired. */
  async verify(token: unknown): Promise<string | null> {
    return (await this.claims(token))?.username ?? null;
  }

  /** Username and session version of a valid token, else null. */
  async claims(token: unknown): Promise<{ username: string; sessionVersion: number } | null> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return null;
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string') return null;
      return { username: payload.sub, sessionVersion: typeof payload.sv === 'number' ? payload.sv : 0 };
    } catch {
      return null;
    }
  }

  /**
   * The active user a token belongs to: valid signature and expiry, the user exists and is not disabled, and the
   * token's session version is the user's current one (not revoked). Checked on every request and live connection.
   */
  async session(token: unknown, users: UserRepo): Promise<User | null> {
    const c = await this.claims(token);
    if (!c) return null;
    const a = users.account(c.username);
    if (!a || a.disabled || a.sessionVersion !== c.sessionVersion) return null;
    return users.get(c.username);
  }
}
