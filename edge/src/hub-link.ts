import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  CONTRACT_VERSION,
  RateLimitedLog,
  gatewayTopic,
  parseJson,
  validateAck,
  type DeviceInfo,
  type GatewayStatus,
  type Inventory,
  type RejectReason,
} from '@warden/contract';
import type { EdgeMetrics } from './metrics.ts';
import type { Outbox } from './outbox.ts';

export type StatusFields = Omit<GatewayStatus, 'v' | 'gw' | 'state' | 'ts'>;

export interface HubLinkOptions {
  gatewayId: string;
  url: string;
  username: string;
  password?: string | undefined;
  /** PEM files for mqtts:// / wss://: the hub's CA, this gateway's client certificate and key (mutual TLS). */
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined; servername?: string | undefined } | undefined;
  keepaliveSeconds: number;
  reconnectMs: number;
  batchSize: number;
  /** A batch is also cut when its JSON would exceed this, to stay under the hub's packet limit. */
  maxBatchBytes: number;
  maxInFlightBatches: number;
  retryMs: number;
  statusIntervalSeconds: number;
  outbox: Outbox;
  status(): StatusFields;
  inventory(): DeviceInfo[];
  onCommand(payload: Buffer): void;
  /** Face gallery deltas (contract/src/gallery.ts); the channel is subscribed only when this is set. */
  onGallery?(payload: Buffer): void;
  refuse(reason: RejectReason, fields: Record<string, unknown>, msg: string): void;
  metrics: EdgeMetrics;
  logger: Logger;
}

interface InFlight {
  lastSeq: number;
  sentAt: number;
}

/**
 * The gateway's MQTT session with the hub. It streams the outbox in seq order as batches and deletes
 * records only when the hub acknowledges them (cumulatively, by seq). The outbox is the only
 * retransmission queue: after a reconnect or an ack timeout it resends from the oldest
 * unacknowledged record, and the hub drops duplicates by record id, so order per device holds.
 */
export class HubLink {
  private client: MqttClient | null = null;
  private ready = false; // connected and subscribed to ack/cmd
  private stopping = false;
  private inflight: InFlight[] = [];
  /** Highest seq sent on the current connection; the next batch starts after it. */
  private sentUpTo = 0;
  /** Highest seq ever sent by this process: an ack beyond it cannot be for us. */
  private highestSent = 0;
  private pumpScheduled = false;
  private timers: NodeJS.Timeout[] = [];
  private readonly log: RateLimitedLog;
  private readonly topics: Record<'up' | 'status' | 'inventory' | 'ack' | 'cmd', string>;
  private readonly galleryTopic: string;

  constructor(private readonly o: HubLinkOptions) {
    this.log = new RateLimitedLog(o.logger);
    const t = (c: 'up' | 'status' | 'inventory' | 'ack' | 'cmd') => gatewayTopic(o.gatewayId, c);
    this.topics = { up: t('up'), status: t('status'), inventory: t('inventory'), ack: t('ack'), cmd: t('cmd') };
    this.galleryTopic = gatewayTopic(o.gatewayId, 'gallery');
  }

  private statusPayload(state: 'online' | 'offline'): string {
    const base = { v: CONTRACT_VERSION, gw: this.o.gatewayId, state, ts: Date.now() };
    return JSON.stringify(state === 'online' ? { ...base, ...this.o.status() } : base);
  }

  /** TLS options for mqtt.js: files read once at start (a missing file stops the agent with its name). */
  private tlsOptions(): Record<string, unknown> {
    const t = this.o.tls;
    if (!t) return {};
    const read = (what: string, file: string | undefined) => {
      if (file === undefined) return {};
      try {
        return { [what]: readFileSync(file) };
      } catch (err) {
        throw new Error(`hub.tls.${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    };
    // The hub's certificate is always verified (rejectUnauthorized), against `ca` or the system CAs.
    return { ...read('ca', t.ca), ...read('cert', t.cert), ...read('key', t.key), ...(t.servername ? { servername: t.servername } : {}), rejectUnauthorized: true };
  }

  start(): void {
    const client = mqtt.connect(this.o.url, {
      ...this.tlsOptions(),
      clientId: `warden-edge-${this.o.gatewayId}`,
      username: this.o.username,
      ...(this.o.password === undefined ? {} : { password: this.o.password }),
      keepalive: this.o.keepaliveSeconds,
      reconnectPeriod: this.o.reconnectMs,
      connectTimeout: 10_000,
      clean: true,
      resubscribe: false, // subscriptions are made on every connect, before any batch goes out
      will: { topic: this.topics.status, payload: Buffer.from(this.statusPayload('offline')), qos: 1, retain: true },
    });
    this.client = client;

    client.on('connect', () => this.onConnect(client));
    client.on('reconnect', () => {
      // The will is read at each CONNECT; give it a current timestamp.
      if (client.options.will) client.options.will.payload = Buffer.from(this.statusPayload('offline'));
    });
    client.on('close', () => this.onClose(client));
    client.on('error', (err) => this.log.warn('hub_link', { err: err.message, url: this.o.url }, 'hub connection problem'));
    client.on('message', (topic, payload) => {
      if (topic === this.topics.ack) this.onAck(payload);
      else if (topic === this.topics.cmd) this.o.onCommand(payload);
      else if (topic === this.galleryTopic) this.o.onGallery?.(payload);
    });

    const statusEvery = this.o.statusIntervalSeconds * 1000;
    this.timers.push(setInterval(() => this.publishStatus(), statusEvery).unref());
    this.timers.push(setInterval(() => this.checkAckTimeout(), Math.max(50, Math.min(1000, this.o.retryMs / 4))).unref());
  }

  connected(): boolean {
    return this.ready;
  }

  /** New records are in the outbox. Coalesced per tick: idle -> sent at once, busy -> they join the next batch. */
  notify(): void {
    if (this.pumpScheduled || !this.ready) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private onConnect(client: MqttClient): void {
    if (this.stopping) return;
    // Nagle would hold small batches back waiting for the previous ack (~11 ms p50 measured).
    (client.stream as Socket | undefined)?.setNoDelay?.(true);
    this.inflight = [];
    this.sentUpTo = 0;
    this.o.logger.info({ url: this.o.url }, 'connected to the hub');
    client.publish(this.topics.status, this.statusPayload('online'), { qos: 1, retain: true }, () => {});
    const inventory: Inventory = { v: CONTRACT_VERSION, gw: this.o.gatewayId, ts: Date.now(), devices: this.o.inventory() };
    client.publish(this.topics.inventory, JSON.stringify(inventory), { qos: 1, retain: true }, () => {});
    const subs: Record<string, { qos: 1 }> = { [this.topics.ack]: { qos: 1 }, [this.topics.cmd]: { qos: 1 } };
    if (this.o.onGallery) subs[this.galleryTopic] = { qos: 1 };
    client.subscribe(subs, (err) => {
      if (err || client !== this.client || this.stopping) {
        if (err) this.log.warn('hub_subscribe', { err: err.message }, 'could not subscribe to ack/cmd; will retry on reconnect');
        return;
      }
      this.ready = true;
      // The birth status went out before this subscription: say again which gallery we hold, now that a reply can arrive.
      if (this.o.onGallery) this.publishStatus();
      this.pump();
    });
  }

  private onClose(client: MqttClient): void {
    if (this.ready) this.o.logger.warn({ backlog: this.o.outbox.backlog() }, 'hub connection lost; records queue in the outbox');
    this.ready = false;
    this.inflight = [];
    // mqtt.js would replay its unacknowledged publishes on reconnect, ahead of our resend from the
    // oldest record, which could put a newer batch before an older one. The outbox already holds them.
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
  }

  private pump(): void {
    const client = this.client;
    if (!client || !this.ready || this.stopping) return;
    while (this.inflight.length < this.o.maxInFlightBatches) {
      const records = this.o.outbox.peek(this.sentUpTo, this.o.batchSize);
      if (records.length === 0) return;
      const head = `{"v":${CONTRACT_VERSION},"gw":${JSON.stringify(this.o.gatewayId)},"records":[`;
      const parts: string[] = [];
      let size = head.length + 2;
      for (const r of records) {
        const json = JSON.stringify(r);
        if (parts.length > 0 && size + json.length + 1 > this.o.maxBatchBytes) break;
        parts.push(json);
        size += json.length + 1;
      }
      const last = records[parts.length - 1]!.seq;
      client.publish(this.topics.up, `${head}${parts.join(',')}]}`, { qos: 1 }, () => {});
      this.o.metrics.batchSent();
      this.inflight.push({ lastSeq: last, sentAt: Date.now() });
      this.sentUpTo = last;
      if (last > this.highestSent) this.highestSent = last;
    }
  }

  private onAck(payload: Buffer): void {
    const parsed = parseJson(payload);
    const ack = parsed.ok ? validateAck(parsed.value) : parsed;
    if (!ack.ok) return this.o.refuse(ack.reason, { detail: ack.detail, topic: this.topics.ack }, 'invalid ack from the hub');
    let upTo = ack.value.upTo;
    if (upTo > this.highestSent) {
      // Never delete what was not sent: such an ack is stale or not meant for this outbox.
      this.log.warn('ack_ahead', { upTo, highestSent: this.highestSent }, 'hub acknowledged records not sent yet; clamping');
      upTo = this.highestSent;
    }
    if (upTo > 0) this.o.outbox.ackUpTo(upTo);
    this.inflight = this.inflight.filter((b) => b.lastSeq > upTo);
    if (this.sentUpTo < upTo) this.sentUpTo = upTo;
    this.pump();
  }

  private checkAckTimeout(): void {
    const oldest = this.inflight[0];
    if (!this.ready || !oldest || Date.now() - oldest.sentAt < this.o.retryMs) return;
    this.o.metrics.resend();
    this.log.warn('ack_timeout', { retryMs: this.o.retryMs, backlog: this.o.outbox.backlog() }, 'no ack from the hub in time; resending from the oldest record');
    this.inflight = [];
    this.sentUpTo = 0;
    this.pump();
  }

  /** Retained status with backlog and counters; the birth message and the heartbeat. */
  publishStatus(): void {
    if (!this.ready || !this.client) return;
    this.client.publish(this.topics.status, this.statusPayload('online'), { qos: 1, retain: true }, () => {});
  }

  /** The retained inventory again (its device list changed, e.g. camera discovery proposals). */
  publishInventory(): void {
    if (!this.client?.connected) return;
    const inventory: Inventory = { v: CONTRACT_VERSION, gw: this.o.gatewayId, ts: Date.now(), devices: this.o.inventory() };
    this.client.publish(this.topics.inventory, JSON.stringify(inventory), { qos: 1, retain: true }, () => {});
  }

  /** Says goodbye (retained offline status) when the hub is reachable, then closes. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    const client = this.client;
    if (!client) return;
    if (this.ready) {
      await Promise.race([
        new Promise<void>((r) => client.publish(this.topics.status, this.statusPayload('offline'), { qos: 1, retain: true }, () => r())),
        new Promise<void>((r) => setTimeout(r, 1000).unref()),
      ]);
    }
    const wasReady = this.ready;
    this.ready = false;
    if (wasReady) {
      // A clean DISCONNECT, so the broker does not also publish the will over the fresher status.
      const graceful = await Promise.race([
        client.endAsync(false).then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref()),
      ]);
      if (graceful) return;
    }
    await client.endAsync(true);
  }
}
