import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { gatewayTopic, newId } from '@warden/contract';
import { parseHubConfig, startHub, type Hub } from '../src/index.ts';

export const ADMIN_PASSWORD = 'test-admin-password';

export interface TestHub {
  hub: Hub;
  dataDir: string;
  close(): Promise<void>;
}

/** The wall clock moved so that it reads `at` now and runs on from there: a hub living on a fixed date that still ticks. */
export function clockAt(at: number): () => number {
  const offset = at - Date.now();
  return () => Date.now() + offset;
}

/** A real hub on ephemeral ports with its own temp data dir; `clock` is the hub clock (default the wall clock). */
export async function testHub(extra: Record<string, unknown> = {}, dataDir?: string, clock?: () => number): Promise<TestHub> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'warden-hub-test-')));
  const hub = await startHub(
    parseHubConfig({
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir: dir,
      admin: { password: ADMIN_PASSWORD },
      dashboard: { dir: join(dir, 'no-dist') },
      // Tests fire requests far faster than a console; the REST rate limit has its own test (rate-limit.test.ts).
      limits: { requestsPerMinute: 1_000_000, requestBurst: 1_000_000 },
      ...extra,
    }),
    { logger: false, ...(clock ? { clock } : {}) },
  );
  return {
    hub,
    dataDir: dir,
    async close() {
      await hub.stop();
      if (!dataDir) await rm(dir, { recursive: true, force: true });
      // The face-template key file the hub made beside its data dir (hub/src/faces/keys.ts).
      if (!dataDir) await rm(`${dir}.faces-key`, { force: true });
    },
  };
}

export interface TestDevice {
  id: string;
  kind: string;
  driver?: string;
  building?: string;
  zone?: string;
  name?: string;
}

/**
 * Hub config registering gateways and their devices the way an operator does (issue 9: the hub owns the registry,
 * a gateway's inventory only reports): `gateways` with their passwords and `devices.registry` built from the same
 * device list the test's gateway then reports in its inventory.
 */
export function registered(gws: Record<string, { password: string; name?: string; devices?: readonly TestDevice[] }>): {
  gateways: Array<{ id: string; name?: string; password: string }>;
  devices: { registry: Array<Record<string, string>> };
} {
  return {
    gateways: Object.entries(gws).map(([id, g]) => ({ id, password: g.password, ...(g.name ? { name: g.name } : {}) })),
    devices: {
      registry: Object.entries(gws).flatMap(([gateway, g]) =>
        (g.devices ?? []).map((d) => ({
          id: d.id,
          gateway,
          kind: d.kind,
          ...(d.building ? { building: d.building } : {}),
          ...(d.zone ? { zone: d.zone } : {}),
          ...(d.name ? { name: d.name } : {}),
        })),
      ),
    },
  };
}

/** A gateway's MQTT connection with the client id the hub assigns it (warden-edge-<id>), like the edge agent's. */
export function connectGateway(url: string, gw: string, password: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId: `warden-edge-${gw}`, username: gw, password, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
}

/** Resolves with the CONNACK refusal (or other connection error) of a connection attempt that must fail. */
export function refusedConnect(url: string, opts: IClientOptions): Promise<Error & { code?: number }> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => {
      c.end(true);
      reject(new Error('connection was accepted'));
    });
    c.once('error', (err) => {
      c.end(true);
      resolve(err as Error & { code?: number });
    });
  });
}

export async function eventually<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, what = 'condition', timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads one Prometheus sample from /api/metrics (served to loopback without a token). */
export async function metric(hub: Hub, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${hub.httpUrl}/api/metrics`)).text();
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m && m[1] === name && (m[2] ?? '') === want) return Number(m[3]);
  }
  return 0;
}

export async function login(hub: Hub, username = 'admin', password = ADMIN_PASSWORD): Promise<string> {
  const res = await fetch(`${hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export async function api<T = unknown>(hub: Hub, token: string | null, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${hub.httpUrl}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // text answers (metrics, 503 page) stay text
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** A gateway as the edge agent is one: birth status, inventory, then batches on .../up with increasing seq. */
export class FakeGatewayBatches {
  seq = 0;
  constructor(readonly gw: string) {}
  event(device: string, type: string, data: Record<string, unknown> = {}, ts = Date.now()) {
    return { id: newId(), seq: ++this.seq, device, ts, kind: 'event', type, data };
  }
  telemetry(device: string, metrics: Record<string, number>, ts = Date.now()) {
    return { id: newId(), seq: ++this.seq, device, ts, kind: 'telemetry', metrics };
  }
  batch(records: unknown[]): string {
    return JSON.stringify({ v: 1, gw: this.gw, records });
  }
}

export function inventory(gw: string, devices: readonly TestDevice[]): string {
  return JSON.stringify({ v: 1, gw, ts: Date.now(), devices: devices.map((d) => ({ driver: 'test-driver', ...d })) });
}

export function status(gw: string, state: 'online' | 'offline', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: 1, gw, state, ts: Date.now(), ...extra });
}

/** Subscribes to the gateway's ack topic and resolves with each ack's upTo as it arrives. */
export async function ackWatcher(client: MqttClient, gw: string): Promise<{ acks: number[]; until(upTo: number): Promise<void> }> {
  const acks: number[] = [];
  client.on('message', (topic, payload) => {
    if (topic === gatewayTopic(gw, 'ack')) acks.push((JSON.parse(payload.toString()) as { upTo: number }).upTo);
  });
  await client.subscribeAsync(gatewayTopic(gw, 'ack'), { qos: 1 });
  return { acks, until: (upTo) => eventually(() => acks.some((a) => a >= upTo), `ack up to ${upTo}`).then(() => undefined) };
}
