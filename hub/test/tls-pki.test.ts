import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { certFingerprint } from '../src/pki.ts';

const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));
const OPENSSL = spawnSync('openssl', ['version']).status === 0;
const warden = (...args: string[]) => spawnSync(process.execPath, [WARDEN, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('warden pki: a campus CA and the hub and gateway certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-pki-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a CA, a hub server certificate with its SANs and a gateway client certificate named after the gateway', () => {
    const ca = warden('pki', 'ca', '--dir', dir);
    expect(ca.status, ca.stderr).toBe(0);
    expect(warden('pki', 'hub', '--dir', dir, '--name', 'hub.campus.example', '--name', '10.20.0.5').status).toBe(0);
    const gw = warden('pki', 'gateway', 'gw-library', '--dir', dir);
    expect(gw.status, gw.stderr).toBe(0);

    const caCert = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
    const hub = new X509Certificate(readFileSync(join(dir, 'hub.crt')));
    const gateway = new X509Certificate(readFileSync(join(dir, 'gateway-gw-library.crt')));
    expect(caCert.ca).toBe(true);
    expect(hub.ca).toBe(false);
    expect(hub.checkIssued(caCert) && hub.verify(caCert.publicKey)).toBe(true);
    expect(gateway.checkIssued(caCert) && gateway.verify(caCert.publicKey)).toBe(true);
    expect(hub.subjectAltName).toBe('DNS:hub.campus.example, IP Address:10.20.0.5');
    expect(gateway.subject).toContain('CN=gw-library');
    expect(gateway.subjectAltName).toBe('DNS:gw-library');
    expect(gw.stdout).toContain(certFingerprint(readFileSync(join(dir, 'gateway-gw-library.crt'))));
    // Private keys are for their owner only.
    for (const k of ['ca.key', 'hub.key', 'gateway-gw-library.key']) expect(statSync(join(dir, k)).mode & 0o077).toBe(0);
    if (OPENSSL) {
      const out = execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslclient', join(dir, 'gateway-gw-library.crt')], { encoding: 'utf8' });
      expect(out).toContain(': OK');
      expect(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslserver', join(dir, 'hub.crt')], { encoding: 'utf8' })).toContain(': OK');
    }
  });

  it('never overwrites a key, refuses a bad gateway id and explains a missing CA', () => {
    const again = warden('pki', 'gateway', 'gw-library', '--dir', dir);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/exists already/);
    expect(warden('pki', 'gateway', '+', '--dir', dir).stderr).toMatch(/invalid gateway id "\+"/);
    const none = warden('pki', 'hub', '--dir', join(dir, 'nothing'), '--name', 'x');
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no campus CA in .*nothing.*warden pki ca/);
  });
});
