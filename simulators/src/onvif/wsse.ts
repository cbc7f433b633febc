import { createHash, timingSafeEqual } from 'node:crypto';
import { child, text } from './soap.ts';

/**
 * WS-Security UsernameToken with PasswordDigest, as ONVIF cameras check it:
 * digest = base64(SHA-1(nonce bytes + Created + password)), Created within a window of the camera's own
 * clock, and a nonce accepted once (replay refused). Plain-text passwords are refused: secure by default.
 */

export type AuthOutcome = { ok: true; user: string } | { ok: false; reason: 'missing' | 'unknown_user' | 'bad_digest' | 'stale' | 'replay' | 'plaintext' };

const PASSWORD_DIGEST = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';

export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')])).digest('base64');
}

export class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly ttlMs: number, private readonly max = 10_000) {}

  /** True when the nonce is new (and remembers it). */
  accept(nonce: string, now: number): boolean {
    if (this.seen.size >= this.max) {
      for (const [n, at] of this.seen) {
        if (now - at > this.ttlMs || this.seen.size >= this.max) this.seen.delete(n);
        else break;
      }
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now);
    return true;
  }
}

export function verifyUsernameToken(
  header: Record<string, unknown>,
  users: ReadonlyMap<string, string>,
  cameraNow: number,
  nonces: NonceCache,
  windowMs: number,
): AuthOutcome {
  const token = child(child(header, 'Security'), 'UsernameToken');
  if (token === undefined) return { ok: false, reason: 'missing' };
  const user = text(child(token, 'Username'));
  const pwEl = child(token, 'Password');
  const pw = text(pwEl);
  const type = (typeof pwEl === 'object' && pwEl !== null ? (pwEl as Record<string, unknown>)['@_Type'] : undefined) as string | undefined;
  const nonceB64 = text(child(token, 'Nonce'));
  const created = text(child(token, 'Created'));
  if (!user || !pw) return { ok: false, reason: 'missing' };
  if (type !== PASSWORD_DIGEST) return { ok: false, reason: 'plaintext' };
  if (!nonceB64 || !created) return { ok: false, reason: 'missing' };
  const secret = users.get(user);
  if (secret === undefined) return { ok: false, reason: 'unknown_user' };
  const expected = Buffer.from(passwordDigest(Buffer.from(nonceB64, 'base64'), created, secret));
  const got = Buffer.from(pw);
  if (expected.length !== got.length || !timingSafeEqual(expected, got)) return { ok: false, reason: 'bad_digest' };
  const at = Date.parse(created);
  if (Number.isNaN(at) || Math.abs(at - cameraNow) > windowMs) return { ok: false, reason: 'stale' };
  if (!nonces.accept(`${user}:${nonceB64}`, cameraNow)) return { ok: false, reason: 'replay' };
  return { ok: true, user };
}
