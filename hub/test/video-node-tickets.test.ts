/**
 * Fuzz: the live-view ticket parser (hub/src/video/tickets.ts), the one thing a relay node reads from a browser.
 * Arbitrary strings, byte-mutated real tickets and re-signed arbitrary claims: never a throw, never a bounded-time
 * overrun, and nothing but a well-formed, correctly signed, in-date ticket for this relay and camera is accepted.
 * Seed printed; replay with WARDEN_FUZZ_SEED. Also the relay config parser, with generated relay.yaml values.
 */
import { sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fc, fromSchema, fuzzRun, params, timeBounded, values } from '../../contract/test/fuzz/kit.ts';
import { RelayConfigError, RelayNodeConfigSchema, parseRelayConfig } from '../src/video/node.ts';
import { checkTicket, loadOrCreateTicketKeys, signTicket } from '../src/video/tickets.ts';

const RUNS = 10_000;
const dir = mkdtempSync(join(tmpdir(), 'warden-ticket-fuzz-'));
const { privateKey, publicKey } = loadOrCreateTicketKeys(dir);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = 1_750_000_000_000;
const want = { aud: 'node-a', cam: 'cam-1', now: NOW };

describe('fuzz: live-view tickets', () => {
  it(`${RUNS} arbitrary strings and ${RUNS} mutated real tickets: refused with a reason, never a throw`, () => {
    const real = signTicket(privateKey, { sub: 'guard', cam: 'cam-1', aud: 'node-a', now: NOW, ttlMs: 60_000 }).ticket;
    expect(checkTicket(publicKey, real, want).ok).toBe(true);
    const r1 = fuzzRun('ticket: arbitrary strings', RUNS);
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.base64String(), fc.stringMatching(/^[A-Za-z0-9_-]{0,300}\.[A-Za-z0-9_-]{0,120}$/)), (s) => {
        const r = timeBounded(500, () => checkTicket(publicKey, s, want));
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }),
      params(r1),
    );
    const r2 = fuzzRun('ticket: mutated real tickets', RUNS);
    fc.assert(
      fc.property(fc.nat(real.length - 1), fc.integer({ min: 0, max: 63 }), fc.boolean(), (at, ch, drop) => {
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const t = drop ? real.slice(0, at) + real.slice(at + 1) : real.slice(0, at) + alphabet[ch] + real.slice(at + 1);
        const r = timeBounded(500, () => checkTicket(publicKey, t, want));
        // The one change that leaves a ticket valid: base64url's last character can carry unused bits.
        if (t !== real && r.ok) expect(Buffer.from(t.split('.')[1] ?? '', 'base64url').equals(Buffer.from(real.split('.')[1]!, 'base64url'))).toBe(true);
      }),
      params(r2),
    );
  });

  it(`${RUNS} arbitrary claims signed with the hub's key: accepted only when audience, camera and expiry all fit`, () => {
    const r = fuzzRun('ticket: signed arbitrary claims', RUNS);
    fc.assert(
      fc.property(fromSchema({ type: 'object', properties: { v: { type: 'integer' }, sub: { type: 'string' }, cam: { type: 'string' }, aud: { type: 'string' }, exp: { type: 'number' }, jti: { type: 'string' } } }), fc.boolean(), (claims, right) => {
        const c = right && claims && typeof claims === 'object' && !Array.isArray(claims) ? { ...claims, v: 1, aud: 'node-a', cam: 'cam-1' } : claims;
        const body = Buffer.from(JSON.stringify(c)).toString('base64url');
        const t = `${body}.${sign(null, Buffer.from(body), privateKey).toString('base64url')}`;
        const out = timeBounded(500, () => checkTicket(publicKey, t, want));
        const o = c as Record<string, unknown> | null;
        const fits = !!o && typeof o === 'object' && o.v === 1 && o.aud === 'node-a' && o.cam === 'cam-1' && typeof o.exp === 'number' && o.exp > NOW && typeof o.sub === 'string' && typeof o.jti === 'string';
        expect(out.ok).toBe(fits && t.length <= 1024);
      }),
      params(r),
    );
  });

  it(`${RUNS / 10} generated relay configs: a config or a RelayConfigError with paths, never another throw`, () => {
    const r = fuzzRun('relay config', RUNS / 10);
    fc.assert(
      fc.property(values(fromSchema(RelayNodeConfigSchema)), (obj) => {
        try {
          timeBounded(200, () => parseRelayConfig(obj, { baseDir: dir }));
        } catch (err) {
          expect(err).toBeInstanceOf(RelayConfigError);
          expect((err as RelayConfigError).errors.length).toBeGreaterThan(0);
        }
      }),
      params(r),
    );
  });
});
