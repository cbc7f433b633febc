import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { Aedes } from 'aedes';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeConfigError, parseEdgeConfig } from '../src/config.ts';
import { HubLink } from '../src/hub-link.ts';
import { EdgeMetrics } from '../src/metrics.ts';
import { Outbox } from '../src/outbox.ts';
import { tempDir } from './helpers.ts';

const OPENSSL = spawnSync('openssl', ['version']).status === 0;
const errorsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof EdgeConfigError) return [...err.errors];
    throw err;
  }
  return [];
};

describe('edge hub link over TLS', () => {
  let tmp: ReturnType<typeof tempDir>;
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeEach(() => (tmp = tempDir()));
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    tmp.remove();
  });

  it('reads hub.tls (paths relative to the config) and refuses half a client certificate or a non-TLS URL', () => {
    const base = { gateway: { id: 'gw-t' }, hub: { url: 'mqtts://hub.campus:8883', password: 'pw-12345678' } };
    const c = parseEdgeConfig({ ...base, hub: { ...base.hub, tls: { ca: 'pki/ca.crt', cert: 'pki/gw.crt', key: 'pki/gw.key' } } }, 'test', { baseDir: '/etc/warden', env: {} });
    expect(c.hub.tls).toEqual({ ca: '/etc/warden/pki/ca.crt', cert: '/etc/warden/pki/gw.crt', key: '/etc/warden/pki/gw.key' });
    expect(errorsOf(() => parseEdgeConfig({ ...base, hub: { ...base.hub, tls: { cert: 'gw.crt' } } }, 'test', { env: {} }))).toEqual(['hub/tls: give both cert and key (mutual TLS), or neither']);
    expect(errorsOf(() => parseEdgeConfig({ ...base, hub: { ...base.hub, url: 'mqtt://hub:1883', tls: { ca: 'ca.crt' } } }, 'test', { env: {} }))).toEqual([
      'hub/tls: the hub url mqtt://hub:1883 is not a TLS URL (mqtts:// or wss://)',
    ]);
  });

  it.skipIf(!OPENSSL)('connects with its client certificate to a hub its CA vouches for, and never to one it does not', async () => {
    const f = (n: string) => join(tmp.dir, n);
    const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ossl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=Test CA');
    ossl('req', ...ec, '-keyout', f('hub.key'), '-out', f('hub.csr'), '-subj', '/CN=127.0.0.1');
    writeFileSync(f('hub.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ossl('x509', '-req', '-in', f('hub.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-out', f('hub.crt'), '-extfile', f('hub.ext'));
    ossl('req', ...ec, '-keyout', f('gw.key'), '-out', f('gw.csr'), '-subj', '/CN=gw-t');
    ossl('x509', '-req', '-in', f('gw.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-out', f('gw.crt'));
    ossl('req', '-x509', ...ec, '-keyout', f('other.key'), '-out', f('other.crt'), '-days', '2', '-subj', '/CN=Other CA');

    // A real aedes behind a TLS listener that requires a client certificate from the CA, recording who presented one.
    const aedes = await Aedes.createBroker();
    const peers: string[] = [];
    const server = createServer(
      { cert: readFileSync(f('hub.crt')), key: readFileSync(f('hub.key')), ca: readFileSync(f('ca.crt')), requestCert: true, rejectUnauthorized: true },
      (socket: TLSSocket) => {
        peers.push(String(socket.getPeerCertificate().subject?.CN));
        aedes.handle(socket);
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => (aedes.close(() => server.close(() => r())))));
    const port = (server.address() as { port: number }).port;

    const link = (ca: string, name: string) => {
      const outbox = Outbox.open(f(`${name}.db`));
      const l = new HubLink({
        gatewayId: 'gw-t',
        url: `mqtts://127.0.0.1:${port}`,
        username: 'gw-t',
        password: 'pw-12345678',
        tls: { ca, cert: f('gw.crt'), key: f('gw.key') },
        keepaliveSeconds: 15,
        reconnectMs: 200,
        batchSize: 10,
        maxBatchBytes: 65536,
        maxInFlightBatches: 1,
        retryMs: 5000,
        statusIntervalSeconds: 60,
        outbox,
        status: () => ({ agentVersion: 'test', startedAt: 0, backlog: 0, devicesOnline: 0, devicesTotal: 0, counters: {} }) as never,
        inventory: () => [],
        onCommand: () => {},
        refuse: () => {},
        metrics: new EdgeMetrics({ backlog: () => 0, hubConnected: () => false, devicesOnline: () => 0 }),
        logger: pino({ enabled: false }),
      });
      cleanups.push(async () => (await l.stop(), outbox.close()));
      return l;
    };

    const good = link(f('ca.crt'), 'good');
    good.start();
    await expect.poll(() => good.connected(), { timeout: 10_000 }).toBe(true);
    expect(peers).toContain('gw-t');

    // Trusting another CA, the link refuses the hub's certificate and never logs in.
    const wary = link(f('other.crt'), 'wary');
    const before = aedes.connectedClients;
    wary.start();
    await new Promise((r) => setTimeout(r, 1500));
    expect(wary.connected()).toBe(false);
    expect(aedes.connectedClients).toBe(before);
  });
});
