import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEdgeAgent, type EdgeAgent } from '../src/agent.ts';
import { EdgeConfigError, parseEdgeConfig } from '../src/config.ts';
import { startFieldBroker } from '../src/field-broker.ts';
import { eventually, fieldDevice, outboxRecords, silent, tempDir, deadPort } from './helpers.ts';

/*
 * Issue 9's findings on the field network, each written as the attack and shown refused (edge README,
 * "Field network security"; SECURITY.md).
 */

const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const MOSQUITTO_SUB = has('mosquitto_sub');
const MOSQUITTO_PUB = has('mosquitto_pub');
const OPENSSL = has('openssl');

const DEVICES = [
  { id: 'smoke-1', driver: 'fire-sensor', secret: 'smoke-1-secret' },
  { id: 'door-1', driver: 'door-controller', secret: 'door-1-secret' },
  { id: 'door-2', driver: 'door-controller', secret: 'door-2-secret' },
];

describe('field network security (issue 9)', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A gateway on the default field settings (device authentication on), its hub unreachable. */
  async function gateway(field: Record<string, unknown> = {}): Promise<{ agent: EdgeAgent; outbox: string; dir: string }> {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const outbox = join(tmp.dir, 'outbox.db');
    const config = parseEdgeConfig(
      {
        gateway: { id: 'gw-sec' },
        hub: { url: `mqtt://127.0.0.1:${await deadPort()}`, password: 'x', reconnectMs: 60_000 },
        field: { port: 0, ...field },
        outbox: { path: outbox },
        devices: DEVICES,
      },
      'test',
      { env: {}, baseDir: tmp.dir },
    );
    const agent = await startEdgeAgent(config, { logger: silent });
    cleanups.push(() => agent.stop());
    return { agent, outbox, dir: tmp.dir };
  }

  const track = <T extends { endAsync(force?: boolean): Promise<void> }>(c: T): T => {
    cleanups.push(() => c.endAsync(true));
    return c;
  };

  it('device authentication is on by default: a config without device secrets is refused', () => {
    const cfg = parseEdgeConfig({ gateway: { id: 'gw' }, devices: DEVICES }, 'test', { env: {} });
    expect(cfg.field.requireAuth).toBe(true);
    expect(() => parseEdgeConfig({ gateway: { id: 'gw' }, devices: [{ id: 'smoke-1', driver: 'fire-sensor' }] }, 'test', { env: {} })).toThrow(
      /devices\/0\/secret: required because field.requireAuth is true/,
    );
  });

  it('a "smoke detector" that logs in without credentials cannot raise a fire alarm', async () => {
    const { agent, outbox } = await gateway();
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${agent.field.port}`, { clientId: 'smoke-1', reconnectPeriod: 0, connectTimeout: 5000 }),
    ).rejects.toThrow(/Bad username or password/i);
    // A wrong secret is refused too, and nothing reached the outbox.
    await expect(fieldDevice(agent.field.port, 'smoke-1', { password: 'guessed-secret' })).rejects.toThrow(/Bad username or password/i);
    expect(agent.metrics.get('rejected.auth_failed')).toBe(2);
    expect((await outboxRecords(outbox)).filter((r) => r.kind === 'event' && r.type.startsWith('fire.'))).toEqual([]);
    expect(agent.devicesOnline()).toBe(0);
  });

  it('the client id "+" (and any id with wildcards, "/" or NUL) is refused, with and without authentication', async () => {
    for (const requireAuth of [true, false]) {
      const { agent } = await gateway({ requireAuth });
      for (const clientId of ['+', '#', 'door-1/x', 'smoke\u0000', 'not-configured']) {
        await expect(
          mqtt.connectAsync(`mqtt://127.0.0.1:${agent.field.port}`, { clientId, username: clientId, password: 'door-1-secret', reconnectPeriod: 0, connectTimeout: 5000 }),
          JSON.stringify(clientId),
        ).rejects.toThrow(/Identifier rejected/i);
      }
      expect(agent.metrics.get('rejected.client_id_refused')).toBe(5);
    }
  });

  it.skipIf(!MOSQUITTO_SUB || !MOSQUITTO_PUB)("mosquitto_sub -i '+' -t '+/+/#' receives nothing (real mosquitto-clients)", async () => {
    // Unauthenticated bench (the finding's setting) and the default: in neither may '+' read the devices' traffic.
    for (const requireAuth of [false, true]) {
      const { agent } = await gateway({ requireAuth });
      const port = String(agent.field.port);
      const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-i', '+', '-t', '+/+/#', '-v', '-W', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      sub.stdout.on('data', (b: Buffer) => (out += b.toString()));
      sub.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<number | null>((r) => sub.once('exit', (code) => r(code)));
      cleanups.push(() => sub.kill('SIGKILL'));
      // Real devices talk meanwhile.
      const door = track(await fieldDevice(agent.field.port, 'door-1', requireAuth ? { password: 'door-1-secret' } : {}));
      const door2 = track(await fieldDevice(agent.field.port, 'door-2', requireAuth ? { password: 'door-2-secret' } : {}));
      for (let i = 0; i < 5; i++) {
        await door.publishAsync('acs/door-1/event', JSON.stringify({ event: 'DOOR_OPEN', door: 1 }), { qos: 1 });
        await door2.publishAsync('avail/door-2', 'online', { qos: 1, retain: true });
        await new Promise((r) => setTimeout(r, 200));
      }
      const code = await exited;
      expect(out, 'mosquitto_sub printed traffic').toBe('');
      expect(code).not.toBe(0);
      expect(err).toMatch(/identifier rejected|refused|not authori[sz]ed/i);
      expect(agent.metrics.get('rejected.client_id_refused')).toBeGreaterThanOrEqual(1);
    }
  });

  it('a second connection with a door controller\'s id is refused; the first session keeps working', async () => {
    const { agent, outbox } = await gateway();
    const first = track(await fieldDevice(agent.field.port, 'door-1', { password: 'door-1-secret' }));
    await first.subscribeAsync('acs/door-1/control', { qos: 1 });
    await eventually(() => agent.devicesOnline() === 1, 'door-1 online');

    // Even with the right secret (a stolen one), the takeover is refused: the live session is not dropped.
    await expect(fieldDevice(agent.field.port, 'door-1', { password: 'door-1-secret', announce: false })).rejects.toThrow(/Identifier rejected/i);
    // And without it (someone who only knows the id).
    await expect(fieldDevice(agent.field.port, 'door-1', { announce: false })).rejects.toThrow(/Bad username or password|Identifier rejected/i);
    expect(agent.metrics.get('rejected.session_taken')).toBe(1);

    await new Promise((r) => setTimeout(r, 200));
    expect(first.connected).toBe(true);
    expect(agent.devicesOnline()).toBe(1);
    await first.publishAsync('acs/door-1/event', JSON.stringify({ event: 'FORCED_OPEN', door: 1 }), { qos: 1 });
    expect((await outboxRecords(outbox)).some((r) => r.kind === 'event' && r.type === 'door.forced' && r.device === 'door-1')).toBe(true);

    // Once the first session ends, the device can log in again (a reboot is not locked out).
    await first.endAsync();
    const again = track(await fieldDevice(agent.field.port, 'door-1', { password: 'door-1-secret' }));
    expect(again.connected).toBe(true);
  });

  it('a gateway whose field broker listens on a non-loopback address without authentication refuses to start', async () => {
    const open = { gateway: { id: 'gw' }, field: { host: '0.0.0.0', requireAuth: false }, devices: [{ id: 'door-1', driver: 'door-controller' }] };
    expect(() => parseEdgeConfig(open, 'test', { env: {} })).toThrow(EdgeConfigError);
    expect(() => parseEdgeConfig(open, 'test', { env: {} })).toThrow(/non-loopback address.*allowUnauthenticated/s);
    // The broker itself refuses too (defence in depth for callers that bypass the config).
    await expect(
      startFieldBroker({
        host: '0.0.0.0',
        port: 0,
        requireAuth: false,
        maxPacketBytes: 4096,
        devices: new Map([['door-1', {}]]),
        onMessage: () => {},
        onAvailability: () => {},
        refuse: () => {},
        logger: silent,
      }),
    ).rejects.toThrow(/refusing to start the field broker on 0\.0\.0\.0 without device authentication/);
    // Told explicitly, it starts; on loopback (a test bench) it needs no flag.
    expect(parseEdgeConfig({ ...open, field: { ...open.field, allowUnauthenticated: true } }, 'test', { env: {} }).field.allowUnauthenticated).toBe(true);
    expect(parseEdgeConfig({ ...open, field: { host: '127.0.0.1', requireAuth: false } }, 'test', { env: {} }).field.requireAuth).toBe(false);
  });

  it.skipIf(!OPENSSL)('serves the field network over TLS: a device with the CA connects, plain TCP and untrusted clients do not', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const key = join(tmp.dir, 'field.key');
    const cert = join(tmp.dir, 'field.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const { agent, outbox } = await gateway({ tls: { cert, key } });
    const { readFileSync } = await import('node:fs');
    const ca = readFileSync(cert);

    const door = track(
      await mqtt.connectAsync(`mqtts://127.0.0.1:${agent.field.port}`, { clientId: 'door-1', username: 'door-1', password: 'door-1-secret', ca, reconnectPeriod: 0, connectTimeout: 5000 }),
    );
    await door.publishAsync('acs/door-1/event', JSON.stringify({ event: 'FORCED_OPEN', door: 1 }), { qos: 1 });
    expect((await outboxRecords(outbox)).some((r) => r.kind === 'event' && r.type === 'door.forced')).toBe(true);

    // A client that does not trust the gateway's certificate gives up; plain MQTT on the TLS port gets nowhere.
    const { connect: tlsConnect } = await import('node:tls');
    const { createConnection } = await import('node:net');
    const untrusted = await new Promise<string>((resolve) => {
      const sock = tlsConnect({ host: '127.0.0.1', port: agent.field.port, servername: 'localhost' });
      sock.once('secureConnect', () => (sock.destroy(), resolve('connected')));
      sock.once('error', (err) => (sock.destroy(), resolve(err.message)));
    });
    expect(untrusted).toMatch(/self[- ]signed|certificate/i);
    const plain = await new Promise<string>((resolve) => {
      const sock = createConnection(agent.field.port, '127.0.0.1');
      let got = '';
      sock.on('data', (b: Buffer) => (got += b.toString('hex')));
      sock.once('connect', () => sock.write(Buffer.from('101000044d5154540402003c0004746573740000', 'hex'))); // CONNECT "test"
      sock.once('close', () => resolve(got));
      sock.once('error', () => {});
      setTimeout(() => (sock.destroy(), resolve(`still open: ${got}`)), 5000);
    });
    expect(plain.startsWith('20')).toBe(false); // no CONNACK over plain TCP
    expect(plain).not.toMatch(/^still open/);
  });
});
