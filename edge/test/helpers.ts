import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CONTRACT_VERSION, newId, validateCommand, validateRecord, type Ack, type BatchEnvelope, type UplinkRecord } from '@warden/contract';
import { parseEdgeConfig } from '../src/config.ts';
import { buildDeviceTable } from '../src/devices.ts';
import type { CommandReply, NativeMessage } from '../src/driver.ts';
import { FieldIngest } from '../src/ingest.ts';
import { EdgeMetrics } from '../src/metrics.ts';
import { Outbox } from '../src/outbox.ts';

export const NOW = Date.parse('2026-11-29T04:00:00.000Z');
export const silent = pino({ level: process.env.WARDEN_TEST_VERBOSE ? 'debug' : 'silent' });

export function tempDir(prefix = 'warden-edge-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A record without the outbox-assigned parts, for golden comparisons. */
export type Golden = Omit<UplinkRecord, 'id' | 'seq'>;

/**
 * One device of one driver behind the real ingest path and a real SQLite outbox, with the gateway
 * clock pinned to NOW: native messages in, committed records (or counted rejections) out.
 */
export function driverHarness(driver: string, options: Record<string, unknown> = {}, id = 'dev-1') {
  const tmp = tempDir();
  // Drivers are tested without the field broker: no device logs in, so no field secrets (loopback bench).
  const config = parseEdgeConfig({ gateway: { id: 'gw-test' }, field: { requireAuth: false }, outbox: { path: join(tmp.dir, 'outbox.db') }, devices: [{ id, driver, options }] });
  const devices = buildDeviceTable(config.devices);
  const outbox = Outbox.open(config.outbox.path);
  const metrics = new EdgeMetrics({ backlog: () => outbox.backlog(), hubConnected: () => false, devicesOnline: () => 0 });
  const replies: CommandReply[] = [];
  const ingest = new FieldIngest({ devices, outbox, metrics, logger: silent, onRecords: () => {}, onReply: (_d, r) => replies.push(r), now: () => NOW });
  let lastSeq = 0;
  const device = devices.get(id)!;
  return {
    id,
    metrics,
    replies,
    /** Publishes a native payload as the device would; returns the records it produced. */
    send(topic: string, payload: unknown): Golden[] {
      ingest.handle(id, topic, Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)));
      const records = outbox.peek(lastSeq, 1000);
      if (records.length) lastSeq = records[records.length - 1]!.seq;
      for (const r of records) {
        const v = validateRecord(r);
        if (!v.ok) throw new Error(`driver produced a record the hub would refuse: ${v.detail}`);
      }
      return records.map(({ id: _id, seq: _seq, ...rest }) => rest as Golden);
    },
    rejected: (reason: string) => metrics.get(`rejected.${reason}`),
    /** The native message for a contract command (validated like the hub's). */
    encode(action: string, params: Record<string, unknown>, ref = 'CMD00000001'): NativeMessage {
      const v = validateCommand({ v: 1, id: ref, device: id, action, params, ts: NOW });
      if (!v.ok) throw new Error(v.detail);
      const enc = (device.driver.commands as Record<string, ((p: unknown, c: unknown) => NativeMessage) | undefined>)[action];
      if (!enc) throw new Error(`${driver} does not support ${action}`);
      return enc(v.value.params, { id, options: device.options, ref });
    },
    close() {
      outbox.close();
      tmp.remove();
    },
  };
}

/**
 * Resolves when `fn` returns a truthy value; polls, so tests assert outcomes rather than timing. The 30 s default only
 * bounds a failure's wait (CI's two cores are shared with end-to-end tests and the faketime runs).
 */
export async function eventually<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, what = 'condition', timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn(); // an async condition is awaited (a pending promise is not "true")
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A field device as the protocol describes it: client id = device id, retained availability with a will. */
export async function fieldDevice(port: number, id: string, opts: { password?: string; username?: string; announce?: boolean } = {}) {
  const { default: mqtt } = await import('mqtt');
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: id,
    reconnectPeriod: 0,
    ...(opts.password === undefined ? {} : { username: opts.username ?? id, password: opts.password }),
    will: { topic: `avail/${id}`, payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  if (opts.announce !== false) await client.publishAsync(`avail/${id}`, 'online', { qos: 1, retain: true });
  return client;
}

/** Reads what an agent has committed, through a second (read-only) SQLite connection. */
export async function outboxRecords(path: string): Promise<UplinkRecord[]> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT seq, id, body FROM outbox ORDER BY seq').all() as Array<{ seq: number; id: string; body: string }>;
    return rows.map((r) => ({ id: r.id, seq: r.seq, ...JSON.parse(r.body) }) as UplinkRecord);
  } finally {
    db.close();
  }
}

/** A loopback port nothing listens on (taken from the OS, then released): a hub that is down. */
export async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * What a stand-in hub answers to an uplink batch, as the contract says (contract/src/records.ts): a priority-lane batch
 * by its seqs, a bulk batch cumulatively up to its highest seq.
 */
export function ackFor(env: BatchEnvelope): string {
  const seqs = env.records.map((r) => (r as UplinkRecord).seq);
  const ack: Ack = env.lane === 'priority' ? { v: CONTRACT_VERSION, lane: 'priority', seqs } : { v: CONTRACT_VERSION, upTo: Math.max(...seqs) };
  return JSON.stringify(ack);
}

/**
 * The broker side of a stand-in hub (the hub is written elsewhere): a real aedes broker over TCP on 127.0.0.1 and a
 * connected subscriber client `sub` that plays the hub. `close()` ends the client, drops every connection and stops both.
 * Other clients are turned away (they retry) until `sub` has made its first subscription: a gateway reconnecting to a
 * stand-in restarted on its port could otherwise publish a batch before anyone subscribed, and the broker would drop it
 * (the real hub subscribes in-process before it listens), leaving it to the gateway's ack timeout.
 */
export async function hubBroker(port = 0): Promise<{ port: number; sub: MqttClient; close(): Promise<void> }> {
  const broker = await Aedes.createBroker();
  const hubId = `hub-${newId()}`;
  let subscribed = false;
  broker.on('subscribe', (_subs, client) => {
    if (client?.id === hubId) subscribed = true;
  });
  broker.preConnect = (_client, packet, done) => (subscribed || packet.clientId === hubId ? done(null, true) : done(new Error('stand-in hub not subscribed yet'), false));
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    broker.handle(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${actual}`, { clientId: hubId, reconnectPeriod: 0 });
  return {
    port: actual,
    sub,
    async close() {
      await sub.endAsync(true);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
