import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { WebSocket } from 'ws';
import { VIDEO_CLOSE, videoPath } from '@warden/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseHubConfig } from '../src/config.ts';
import { certFingerprint, createCa, issueCert, type Pem } from '../src/pki.ts';
import { ADMIN_PASSWORD, eventually, testHub, type TestHub } from './helpers.ts';

/** An HTTPS request trusting only `ca` (the hub's campus CA). */
function https<T = unknown>(url: string, ca: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const req = httpsRequest(
      url,
      {
        method: init.method ?? 'GET',
        ca,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // metrics are text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Connects and resolves with the client, or rejects with the CONNACK / TLS error. */
function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => (c.end(true), reject(err)));
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}
const refusal = (p: Promise<MqttClient>) => p.then((c) => (c.end(true), 'connected'), (err: Error & { code?: number | string }) => String(err.code ?? err.message));

describe('hub over TLS: HTTPS, MQTT over TLS with mutual TLS, live credential rotation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tls-'));
  const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  let t: TestHub;
  let ca: Pem;
  let gwA: Pem;
  let gwB: Pem;
  let foreignA: Pem;
  let token: string;
  const base = () => t.hub.httpUrl;
  const metricsText = async () => (await https<string>(`${base()}/api/metrics`, ca.cert)).body;

  beforeAll(async () => {
    ca = await createCa('Test campus CA');
    const hubCert = await issueCert(ca, { usage: 'server', commonName: 'localhost', names: ['127.0.0.1'] });
    gwA = await issueCert(ca, { usage: 'client', commonName: 'gw-a' });
    gwB = await issueCert(ca, { usage: 'client', commonName: 'gw-b' });
    // A certificate for gw-a from a CA the hub does not trust.
    foreignA = await issueCert(await createCa('Someone else'), { usage: 'client', commonName: 'gw-a' });
    const tls = { cert: file('hub.crt', hubCert.cert), key: file('hub.key', hubCert.key) };
    t = await testHub({
      http: { port: 0, tls },
      mqtt: { port: 0, tls: { port: 0, ...tls, ca: file('ca.crt', ca.cert), requireClientCert: true } },
      gateways: [
        { id: 'gw-a', password: 'gateway-a-password' },
        { id: 'gw-b', password: 'gateway-b-password' },
      ],
    });
    const res = await https<{ token: string }>(`${base()}/api/auth/login`, ca.cert, { method: 'POST', body: { username: 'admin', password: ADMIN_PASSWORD } });
    token = res.body.token;
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the REST API over HTTPS only, with a certificate the campus CA vouches for', async () => {
    expect(base()).toMatch(/^https:\/\//);
    expect(token).toBeTruthy();
    expect((await https(`${base()}/api/gateways`, ca.cert, { token })).status).toBe(200);
    // A client that does not trust the campus CA refuses the hub; plain HTTP on the port gets no answer.
    await expect(https(`${base()}/api/health`, (await createCa('other')).cert)).rejects.toThrow(/self[- ]signed|certificate|unable to verify/i);
    await expect(fetch(base().replace('https:', 'http:') + '/api/health')).rejects.toThrow();
    // The live-video WebSocket rides the same listener: over WSS it answers (here: no such camera, 4404).
    const closed = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${base().replace('https:', 'wss:')}${videoPath('cam-none')}?token=${token}`, { ca: ca.cert });
      ws.once('close', (code) => resolve(code));
      ws.once('error', reject);
    });
    expect(closed).toBe(VIDEO_CLOSE.unknownCamera);
  });

  it('MQTT over TLS only: the plain listener is off and a gateway logs in with its own certificate and password', async () => {
    expect(t.hub.mqttUrl).toMatch(/^mqtts:\/\//);
    expect(t.hub.mqttTlsUrl).toBe(t.hub.mqttUrl);
    const ok = await connect(t.hub.mqttTlsUrl!, { ca: ca.cert, cert: gwA.cert, key: gwA.key, clientId: 'warden-edge-gw-a', username: 'gw-a', password: 'gateway-a-password' });
    expect(ok.connected).toBe(true);
    await ok.endAsync();
    // Plain MQTT to the TLS port is not MQTT the hub will read.
    expect(await refusal(connect(t.hub.mqttUrl.replace('mqtts:', 'mqtt:'), { clientId: 'warden-edge-gw-a', username: 'gw-a', password: 'gateway-a-password' }))).not.toBe('connected');
  });

  it("refuses gw-b's certificate used as gw-a, a certificate from another CA, and no certificate", async () => {
    const asA = { ca: ca.cert, clientId: 'warden-edge-gw-a', username: 'gw-a', password: 'gateway-a-password' };
    expect(await refusal(connect(t.hub.mqttTlsUrl!, { ...asA, cert: gwB.cert, key: gwB.key }))).toBe('5');
    const metrics = (await https<string>(`${base()}/api/metrics`, ca.cert)).body;
    expect(metrics).toMatch(/warden_hub_auth_failures_total\{reason="client_cert_mismatch"\} 1/);
    // MQTT over WebSocket (wss, on the HTTPS listener) carries no client certificate: with mutual TLS required it
    // cannot be used to go around it.
    expect(t.hub.mqttWsUrl).toMatch(/^wss:\/\//);
    expect(await refusal(connect(t.hub.mqttWsUrl, { ...asA, wsOptions: { ca: ca.cert } } as IClientOptions))).toBe('5');
    expect(await metricsText()).toMatch(/warden_hub_auth_failures_total\{reason="client_cert_required"\} 1/);
    // The TLS handshake itself refuses these (requireClientCert): they never reach MQTT.
    expect(await refusal(connect(t.hub.mqttTlsUrl!, { ...asA, cert: foreignA.cert, key: foreignA.key }))).not.toBe('connected');
    expect(await refusal(connect(t.hub.mqttTlsUrl!, asA))).not.toBe('connected');
    // Handshakes refused are counted too.
    await eventually(async () => /warden_hub_auth_failures_total\{reason="tls_handshake"\} [1-9]/.test((await https<string>(`${base()}/api/metrics`, ca.cert)).body), 'tls_handshake counted');
  });

  it("rotates gw-a's password live: its session is dropped, the old password refused, the new one accepted (audited)", async () => {
    const opts = { ca: ca.cert, cert: gwA.cert, key: gwA.key, clientId: 'warden-edge-gw-a', username: 'gw-a' };
    const live = await connect(t.hub.mqttTlsUrl!, { ...opts, password: 'gateway-a-password' });
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));

    // Only an admin may rotate.
    const rotated = await https<{ id: string; password: string; disconnected: number }>(`${base()}/api/gateways/gw-a/credentials`, ca.cert, {
      method: 'POST',
      token,
      body: { password: 'gateway-a-rotated-1' },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ id: 'gw-a', password: 'gateway-a-rotated-1', disconnected: 1 });
    await closed;
    live.end(true);

    expect(await refusal(connect(t.hub.mqttTlsUrl!, { ...opts, password: 'gateway-a-password' }))).toBe('5');
    const again = await connect(t.hub.mqttTlsUrl!, { ...opts, password: 'gateway-a-rotated-1' });
    expect(again.connected).toBe(true);
    await again.endAsync();

    // Without a password in the body one is generated (shown once) and works.
    const generated = await https<{ password: string }>(`${base()}/api/gateways/gw-a/credentials`, ca.cert, { method: 'POST', token, body: {} });
    expect(generated.body.password.length).toBeGreaterThanOrEqual(16);
    (await connect(t.hub.mqttTlsUrl!, { ...opts, password: generated.body.password })).end(true);

    expect((await https(`${base()}/api/gateways/gw-x/credentials`, ca.cert, { method: 'POST', token, body: {} })).status).toBe(404);
    const audit = await https<{ entries: Array<{ action: string; target: string; actor: string }> }>(`${base()}/api/audit?action=gateway.credentials_rotated`, ca.cert, { token });
    const rows = (audit.body.entries ?? []).filter((e) => e.action === 'gateway.credentials_rotated' && e.target === 'gw-a');
    expect(rows.length).toBe(2);
    expect(rows[0]!.actor).toBe('admin');
  });

  it("revokes a gateway's certificate by fingerprint: its session drops and the certificate no longer logs in", async () => {
    const opts = { ca: ca.cert, clientId: 'warden-edge-gw-b', username: 'gw-b', password: 'gateway-b-password' };
    const live = await connect(t.hub.mqttTlsUrl!, { ...opts, cert: gwB.cert, key: gwB.key });
    const closed = new Promise<void>((resolve) => live.once('close', () => resolve()));
    const fp = certFingerprint(gwB.cert);
    const res = await https<{ fingerprint: string; disconnected: number }>(`${base()}/api/gateways/gw-b/certificates/revoke`, ca.cert, {
      method: 'POST',
      token,
      body: { fingerprint: fp.toUpperCase().replace(/(..)(?!$)/g, '$1:') },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fingerprint: fp, disconnected: 1 });
    await closed;
    live.end(true);
    expect(await refusal(connect(t.hub.mqttTlsUrl!, { ...opts, cert: gwB.cert, key: gwB.key }))).toBe('5');
    expect((await https<string>(`${base()}/api/metrics`, ca.cert)).body).toMatch(/warden_hub_auth_failures_total\{reason="client_cert_revoked"\} 1/);
    // A new certificate for gw-b from the campus CA logs in.
    const renewed = await issueCert(ca, { usage: 'client', commonName: 'gw-b' });
    (await connect(t.hub.mqttTlsUrl!, { ...opts, cert: renewed.cert, key: renewed.key })).end(true);
    // A non-admin token never reaches rotation (the route × role matrix in trust.test.ts covers the rest).
    expect((await https(`${base()}/api/gateways/gw-b/certificates/revoke`, ca.cert, { method: 'POST', body: { fingerprint: fp } })).status).toBe(401);
  });

  it('a raw TLS client without a certificate is refused in the handshake', async () => {
    const { port } = t.hub.mqttTls!;
    const outcome = await new Promise<string>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost' });
      s.once('secureConnect', () => s.write(Buffer.from([0x10, 0x00])));
      s.once('data', () => (s.destroy(), resolve('answered')));
      s.once('error', (err) => (s.destroy(), resolve(err.message)));
      s.once('close', () => resolve('closed'));
    });
    expect(outcome).toMatch(/certificate|closed|ECONNRESET/i);
  });
});

describe('MQTT over TLS beside plain MQTT, client certificates optional', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tls-opt-'));
  const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  let t: TestHub;
  let ca: Pem;
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps plain MQTT when asked; on TLS a certificate is optional, but a presented one must be trusted and name the gateway', async () => {
    ca = await createCa('Optional CA');
    const hubCert = await issueCert(ca, { usage: 'server', commonName: 'localhost', names: ['127.0.0.1'] });
    t = await testHub({
      mqtt: { port: 0, plain: true, tls: { port: 0, cert: file('hub.crt', hubCert.cert), key: file('hub.key', hubCert.key), ca: file('ca.crt', ca.cert) } },
      gateways: [{ id: 'gw-a', password: 'gateway-a-password' }],
    });
    expect(t.hub.mqttUrl).toMatch(/^mqtt:\/\//);
    expect(t.hub.mqttTlsUrl).toMatch(/^mqtts:\/\//);
    const asA = { clientId: 'warden-edge-gw-a', username: 'gw-a', password: 'gateway-a-password' };
    (await connect(t.hub.mqttUrl, asA)).end(true);
    (await connect(t.hub.mqttTlsUrl!, { ...asA, ca: ca.cert })).end(true);
    const gwA = await issueCert(ca, { usage: 'client', commonName: 'gw-a' });
    (await connect(t.hub.mqttTlsUrl!, { ...asA, ca: ca.cert, cert: gwA.cert, key: gwA.key })).end(true);
    const other = await issueCert(ca, { usage: 'client', commonName: 'gw-z' });
    expect(await refusal(connect(t.hub.mqttTlsUrl!, { ...asA, ca: ca.cert, cert: other.cert, key: other.key }))).toBe('5');
    const foreign = await issueCert(await createCa('Foreign'), { usage: 'client', commonName: 'gw-a' });
    expect(await refusal(connect(t.hub.mqttTlsUrl!, { ...asA, ca: ca.cert, cert: foreign.cert, key: foreign.key }))).toBe('5');
    const text = await (await fetch(`${t.hub.httpUrl}/api/metrics`)).text();
    expect(text).toMatch(/warden_hub_auth_failures_total\{reason="client_cert_mismatch"\} 1/);
    expect(text).toMatch(/warden_hub_auth_failures_total\{reason="client_cert_untrusted"\} 1/);
  });
});

describe('hub TLS configuration', () => {
  const errorsOf = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (err) {
      if (err instanceof ConfigError) return err.errors;
      throw err;
    }
    return [];
  };

  it('refuses plain HTTP or MQTT on a non-loopback address unless told explicitly, and mutual TLS without a CA', () => {
    expect(errorsOf(() => parseHubConfig({ http: { host: '0.0.0.0' } })).join('\n')).toMatch(/\/http: plain HTTP on 0\.0\.0\.0.*http\.allowInsecure/);
    expect(errorsOf(() => parseHubConfig({ mqtt: { host: '10.0.0.5' } })).join('\n')).toMatch(/\/mqtt: plain MQTT on 10\.0\.0\.5/);
    expect(errorsOf(() => parseHubConfig({ http: { host: '0.0.0.0', allowInsecure: true }, mqtt: { host: '0.0.0.0', allowInsecure: true } }))).toEqual([]);
    // TLS configured: plain MQTT is off by default, so a public address needs no flag; turning plain back on does.
    const tls = { cert: 'hub.crt', key: 'hub.key' };
    const c = parseHubConfig({ http: { host: '0.0.0.0', tls }, mqtt: { host: '0.0.0.0', tls } }, {}, { baseDir: '/etc/warden' });
    expect(c.mqtt.tls).toMatchObject({ port: 8883, cert: '/etc/warden/hub.crt', key: '/etc/warden/hub.key', requireClientCert: false });
    expect(c.http.tls).toEqual({ cert: '/etc/warden/hub.crt', key: '/etc/warden/hub.key' });
    expect(errorsOf(() => parseHubConfig({ mqtt: { host: '0.0.0.0', tls, plain: true } })).join('\n')).toMatch(/plain MQTT on 0\.0\.0\.0/);
    expect(errorsOf(() => parseHubConfig({ mqtt: { tls: { ...tls, requireClientCert: true } } }))).toEqual(['/mqtt/tls/requireClientCert: needs mqtt.tls.ca, the CA gateway certificates must chain to']);
    expect(errorsOf(() => parseHubConfig({ mqtt: { plain: false } }))).toEqual(['/mqtt/plain: false needs mqtt.tls, or the hub has no MQTT listener']);
  });

  it('names an unreadable certificate file at start', async () => {
    const missing = { cert: '/nonexistent/hub.crt', key: '/nonexistent/hub.key' };
    await expect(testHub({ mqtt: { port: 0, tls: { port: 0, ...missing } } })).rejects.toThrow(/mqtt\.tls\.cert: cannot read \/nonexistent\/hub\.crt: ENOENT/);
    await expect(testHub({ http: { port: 0, tls: missing } })).rejects.toThrow(/http\.tls\.cert: cannot read \/nonexistent\/hub\.crt: ENOENT/);
  });
});
