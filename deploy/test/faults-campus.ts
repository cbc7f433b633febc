import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { parse, stringify } from 'yaml';
import { expect } from 'vitest';
import { eventually, freePort, runWarden, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { api, e2eSite, login, type E2eSite } from './helpers.ts';

/** One `access.granted` event as the hub stored it; `card` is the number the device sent (its own sequence). */
export interface StoredCard {
  id: string;
  device: string;
  card: number;
  /** Source time (the gateway's clock) and the hub's receive time. */
  ts: number;
  receivedAt: number;
}

export interface CardStream {
  readonly sent: number[];
  acked: number;
  maxUnacked: number;
  total(): number;
  stop(): Promise<number[]>;
}

export interface GatewayStatus {
  id: string;
  online: boolean;
  outboxShed?: { telemetry: number; routine: number };
}

/**
 * The site the store-and-forward and fault-injection tests share, every part its own process over real TCP:
 * `warden hub`, `warden edge` for one gateway, and its door controllers played by MQTT clients on the gateway's
 * field broker. The devices send card events (QoS 1) whose card number is the device's own running count, so
 * the hub's SQLite shows whether each event was stored exactly once and in the device's order.
 * A test file adds only its fault; `close()` (in afterAll) stops whatever is still running and removes the site.
 */
export class FaultCampus {
  readonly devices: MqttClient[] = [];
  private readonly procs = new Set<WardenProcess>();
  token = '';

  private constructor(
    readonly site: E2eSite,
    readonly gateway: string,
    readonly doors: readonly string[],
  ) {}

  static async create(gateway: string, doors: readonly string[]): Promise<FaultCampus> {
    return new FaultCampus(await e2eSite(gateway, [...doors]), gateway, doors);
  }

  /** Runs `warden <args>`; close() stops it unless stopped or forgotten first. */
  start(args: string[], env: NodeJS.ProcessEnv = {}): WardenProcess {
    const p = runWarden(args, env);
    this.procs.add(p);
    return p;
  }

  async stop(p: WardenProcess, how: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await (how === 'SIGKILL' ? p.kill9() : p.stop());
    this.procs.delete(p);
  }

  /** Starts the hub on the site's data and waits until it answers and the admin is logged in. */
  async startHub(): Promise<WardenProcess> {
    const hub = this.start(['hub', '--config', this.site.layout.hubConfig]);
    await waitForHttp(`${this.site.base}/api/health`);
    this.token = await login(this.site.base);
    return hub;
  }

  /** The gateway's edge config file, after `edit` changed it (written back in place). */
  edgeConfig(edit?: (cfg: Record<string, unknown> & { hub: Record<string, unknown> }) => void): string {
    const file = this.site.layout.edgeConfigs.get(this.gateway)!;
    if (edit) {
      const cfg = parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { hub: Record<string, unknown> };
      edit(cfg);
      writeFileSync(file, stringify(cfg));
    }
    return file;
  }

  /** Starts the edge agent; with `waitOnline` (default) returns once the hub lists the gateway online. */
  async startEdge(env: NodeJS.ProcessEnv = {}, waitOnline = true): Promise<WardenProcess> {
    const edge = this.start(['edge', '--config', this.edgeConfig()], env);
    if (waitOnline) await eventually(async () => (await this.gatewayStatus())?.online, 60_000, `gateway ${this.gateway} online`);
    return edge;
  }

  async gatewayStatus(): Promise<GatewayStatus | undefined> {
    return (await api<{ gateways: GatewayStatus[] }>(this.site.base, this.token, '/api/gateways')).gateways.find((g) => g.id === this.gateway);
  }

  /**
   * Connects each door controller to the field broker the way real devices do: they keep unacknowledged QoS 1
   * publishes and send them again after a reconnect (same packet id). `onConnect` runs on every connect, the first
   * included (a device subscribing to its command topic again); `via` sends a device through another port (a proxy).
   */
  async connectDevices(o: { onConnect?: (client: MqttClient, device: string) => void; via?: Record<string, number> } = {}): Promise<MqttClient[]> {
    const { onConnect, via = {} } = o;
    for (const id of this.doors) {
      const c = mqtt.connect(`mqtt://127.0.0.1:${via[id] ?? this.site.fieldPort}`, { clientId: id, username: id, password: this.site.layout.deviceSecrets[id], reconnectPeriod: 200, connectTimeout: 2000 });
      c.on('error', () => {});
      if (onConnect) c.on('connect', () => onConnect(c, id));
      await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      this.devices.push(c);
    }
    return this.devices;
  }

  /** Door `di` sends card number `card` (QoS 1); resolves on the field broker's PUBACK. */
  send(di: number, card: number): Promise<unknown> {
    return this.devices[di]!.publishAsync(`acs/${this.doors[di]}/event`, JSON.stringify({ event: 'CARD_GRANTED', door: 1, card: String(card) }), { qos: 1 });
  }

  /** Every door sends cards `from` .. `from + count - 1` at once, as fast as the link takes them. */
  burst(from: number, count: number, onAck: () => void = () => {}): Promise<unknown> {
    return Promise.all(this.doors.map((_, di) => Promise.all(Array.from({ length: count }, (_, i) => this.send(di, from + i).then(onAck)))));
  }

  /**
   * A steady stream: every door sends its next card every `everyMs` until `stop()`, which resolves once every
   * publish is acknowledged. `sent[di]` counts door di's cards; `maxUnacked` is the most the devices held at once.
   */
  stream(everyMs: number): CardStream {
    const sent = this.doors.map(() => 0);
    const sends: Array<Promise<unknown>> = [];
    let on = true;
    const s: CardStream = {
      sent,
      acked: 0,
      maxUnacked: 0,
      total: () => sent.reduce((a, b) => a + b, 0),
      stop: async () => {
        on = false;
        await loop;
        await Promise.all(sends);
        return sent;
      },
    };
    const loop = (async () => {
      while (on) {
        this.doors.forEach((_, di) => sends.push(this.send(di, sent[di]!++).then(() => void s.acked++)));
        s.maxUnacked = Math.max(s.maxUnacked, s.total() - s.acked);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    })();
    return s;
  }

  /** Every `access.granted` event in the hub's own database (read-only), in storage order. */
  stored(): StoredCard[] {
    const file = join(this.site.dir, 'hub', 'state.db');
    if (!existsSync(file)) return [];
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT id, device, data, ts, received_at AS receivedAt FROM events WHERE type = 'access.granted' ORDER BY n").all() as Array<Omit<StoredCard, 'card'> & { data: string }>;
      return rows.map(({ data, ...r }) => ({ ...r, card: Number((JSON.parse(data) as { credential: string }).credential) }));
    } finally {
      db.close();
    }
  }

  /** How many events of `type` the hub stored. */
  count(type: string): number {
    const file = join(this.site.dir, 'hub', 'state.db');
    if (!existsSync(file)) return 0;
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM events WHERE type = ?').get(type) as { n: number }).n;
    } finally {
      db.close();
    }
  }

  /** Waits until `total` card events are stored, then a moment more: a duplicate from a resend would be an extra row. */
  async storedAll(total: number, timeoutMs = 90_000): Promise<StoredCard[]> {
    await eventually(() => this.stored().length >= total, timeoutMs, `${total} events stored`);
    await new Promise((r) => setTimeout(r, 1500));
    return this.stored();
  }

  /** Door `di` sent cards 0 .. sent[di] - 1: the hub holds each exactly once, in that order per door. */
  expectExactlyOnceInOrder(sent: number | readonly number[]): StoredCard[] {
    const perDoor = this.doors.map((_, di) => (typeof sent === 'number' ? sent : sent[di]!));
    const rows = this.stored();
    expect(rows.length).toBe(perDoor.reduce((a, b) => a + b, 0));
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    this.doors.forEach((door, di) => expect(rows.filter((r) => r.device === door).map((r) => r.card)).toEqual(Array.from({ length: perDoor[di]! }, (_, i) => i)));
    return rows;
  }

  async close(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.endAsync(true)));
    for (const p of [...this.procs].reverse()) await p.stop();
    this.site.remove();
  }
}

export interface TcpProxy {
  port: number;
  /** Drops every connection through the proxy (both ends see the link break). */
  cut(): void;
  /** While true, what the target sends is not passed on (dropped, counted in heldBytes); what the client sends is. */
  holding: boolean;
  heldBytes: number;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of `targetPort`, for a fault between two parts: a cut link or lost answers. */
export async function tcpProxy(targetPort: number): Promise<TcpProxy> {
  const links = new Set<Socket>();
  const server = createServer((client) => {
    const target = createConnection(targetPort, '127.0.0.1');
    for (const s of [client, target]) {
      links.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        links.delete(s);
        client.destroy();
        target.destroy();
      });
    }
    client.pipe(target);
    target.on('data', (chunk: Buffer) => (p.holding ? (p.heldBytes += chunk.length) : client.write(chunk)));
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const p: TcpProxy = {
    port,
    holding: false,
    heldBytes: 0,
    cut: () => {
      for (const s of links) s.destroy();
    },
    close: () => {
      p.cut();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  return p;
}
