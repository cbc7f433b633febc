import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Live-view tickets: the hub (the one authority on users, roles and scopes) signs a short-lived ticket for one user,
 * one camera and one relay (the audience: a relay node's id, or `hub` for its own relay); the relay verifies it with
 * the hub's public key and needs no user database. Ed25519 (node:crypto), a compact `payload.signature` in base64url.
 * The private key stays in the hub's data dir (0600); relay nodes get only the public key file.
 */
export const HUB_AUDIENCE = 'hub';
/** Ticket key files in the hub's data dir: the private key (0600) and the public key to copy to relay nodes. */
export const TICKET_KEY_FILE = 'video-ticket.key';
export const TICKET_PUBLIC_KEY_FILE = 'video-ticket.pub';
/** A longer ticket is refused unread. */
const MAX_TICKET = 1024;

export interface TicketClaims {
  v: 1;
  /** The user (username) the hub authorised. */
  sub: string;
  cam: string;
  /** The relay that may honour it. */
  aud: string;
  /** Issued and expires, ms epoch (the hub's clock). */
  iat: number;
  exp: number;
  /** Random id: a relay honours each ticket once. */
  jti: string;
}

/** The hub's signing key pair: read from the data dir, or created there on first use. */
export function loadOrCreateTicketKeys(dataDir: string): { privateKey: KeyObject; publicKey: KeyObject; publicKeyFile: string } {
  const keyFile = join(dataDir, TICKET_KEY_FILE);
  const pubFile = join(dataDir, TICKET_PUBLIC_KEY_FILE);
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Created meanwhile by another part of the same hub: use that one.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(keyFile, 0o600);
  const privateKey = createPrivateKey(readFileSync(keyFile));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${keyFile}: not an Ed25519 private key`);
  const publicKey = createPublicKey(privateKey);
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  if (!existsSync(pubFile) || readFileSync(pubFile, 'utf8') !== pem) writeFileSync(pubFile, pem, { mode: 0o644 });
  return { privateKey, publicKey, publicKeyFile: pubFile };
}

/** A relay node's copy of the hub's public key (PEM, SPKI). */
export function readTicketPublicKey(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(file));
  } catch (err) {
    throw new Error(`${file}: cannot read the hub's ticket public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: not an Ed25519 public key (copy the hub's ${TICKET_PUBLIC_KEY_FILE})`);
  return key;
}

export function signTicket(privateKey: KeyObject, c: { sub: string; cam: string; aud: string; now: number; ttlMs: number }): { ticket: string; claims: TicketClaims } {
  const claims: TicketClaims = { v: 1, sub: c.sub, cam: c.cam, aud: c.aud, iat: c.now, exp: c.now + c.ttlMs, jti: randomBytes(12).toString('base64url') };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = sign(null, Buffer.from(body), privateKey).toString('base64url');
  return { ticket: `${body}.${sig}`, claims };
}

export type TicketRefusal = 'missing_ticket' | 'bad_ticket' | 'expired' | 'wrong_audience' | 'wrong_camera' | 'replayed';
export type TicketCheck = { ok: true; claims: TicketClaims } | { ok: false; refusal: TicketRefusal; reason: string };

/**
 * Verifies a ticket for this relay and camera: signature first (nothing in an unsigned ticket is read), then
 * audience, camera and expiry. Single use is the caller's (TicketVerifier).
 */
export function checkTicket(publicKey: KeyObject, ticket: string | null, want: { aud: string; cam: string; now: number; leewayMs?: number }): TicketCheck {
  if (!ticket) return { ok: false, refusal: 'missing_ticket', reason: 'no ticket: ask the hub for one (POST /api/cameras/{id}/live)' };
  const parts = ticket.length <= MAX_TICKET ? ticket.split('.') : [];
  const bad = { ok: false, refusal: 'bad_ticket', reason: 'the ticket is malformed or its signature is not the hub’s' } as const;
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]!) || !/^[A-Za-z0-9_-]+$/.test(parts[1]!)) return bad;
  let signed: boolean;
  try {
    signed = verify(null, Buffer.from(parts[0]!), publicKey, Buffer.from(parts[1]!, 'base64url'));
  } catch {
    signed = false;
  }
  if (!signed) return bad;
  let c: TicketClaims;
  try {
    c = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as TicketClaims;
  } catch {
    return bad;
  }
  if (!c || c.v !== 1 || typeof c.sub !== 'string' || typeof c.cam !== 'string' || typeof c.aud !== 'string' || typeof c.exp !== 'number' || typeof c.jti !== 'string') return bad;
  if (c.aud !== want.aud) return { ok: false, refusal: 'wrong_audience', reason: `the ticket is for relay ${c.aud}, not this one (${want.aud})`.slice(0, 120) };
  if (c.cam !== want.cam) return { ok: false, refusal: 'wrong_camera', reason: 'the ticket is for another camera' };
  if (c.exp + (want.leewayMs ?? 0) <= want.now) return { ok: false, refusal: 'expired', reason: 'the ticket has expired: ask the hub for a new one' };
  return { ok: true, claims: c };
}

/** checkTicket plus single use: a ticket id seen before (until its expiry) is refused as replayed. */
export class TicketVerifier {
  private readonly used = new Map<string, number>();
  constructor(
    private readonly publicKey: KeyObject,
    private readonly aud: string,
    private readonly clock: () => number = Date.now,
    /** Clock difference to the hub tolerated on expiry (a relay node on another box). */
    private readonly leewayMs = 0,
  ) {}

  check(ticket: string | null, cam: string): TicketCheck {
    const now = this.clock();
    const r = checkTicket(this.publicKey, ticket, { aud: this.aud, cam, now, leewayMs: this.leewayMs });
    if (!r.ok) return r;
    for (const [id, exp] of this.used) if (exp + this.leewayMs <= now) this.used.delete(id);
    if (this.used.has(r.claims.jti)) return { ok: false, refusal: 'replayed', reason: 'the ticket was used already: ask the hub for a new one' };
    this.used.set(r.claims.jti, r.claims.exp);
    return r;
  }
}
