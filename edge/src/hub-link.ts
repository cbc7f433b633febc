import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  CONTRACT_VERSION,
  MAX_RECORDS_PER_BATCH,
  RateLimitedLog,
  gatewayTopic,
  parseJson,
  validateAck,
  type DeviceInfo,
  type GatewayStatus,
  type Inventory,
  type RejectReason,
  type UplinkRecord,
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

/** A priority batch sent this many times without an ack is given up for the connection (its records go on the bulk stream). */
const LANE_TRIES = 3;

/** The one priority batch this link owes the hub an ack for (sent, or to be sent again). */
interface LaneBatch {
  /** Its seqs not yet acknowledged: a cumulative ack never deletes them, the bulk stream skips them. */
  seqs: Set<number>;
  /** Per device in the batch, its highest seq: the bulk stream sends none of that device's later records meanwhile. */
  devices: Map<string, number>;
  sentAt: number;
  /** False after a reconnect or an ack timeout: it goes again, ahead of everything. */
  onWire: boolean;
}

/**
 * The gateway's MQTT session with the hub. It streams the outbox in seq order as batches and deletes
 * records only when the hub acknowledges them (cumulatively, by seq). The outbox is the only
 * retransmission queue: after a reconnect or an ack timeout it resends from the oldest
 * unacknowledged record, and the hub drops duplicates by record id, so order per device holds.
 *
 * Priority lane: safety records (fire, intrusion, emergency, forced doors, tamper) not yet on the bulk stream go ahead
 * of the backlog in a priority batch (`lane: 'priority'`), each with the earlier queued records of its device, even
 * when the bulk window is full; one such batch at a time. The hub acknowledges it by its seqs and exactly those are
 * deleted. Until then its seqs are skipped by the bulk stream and kept out of cumulative acks (which cover only what
 * the bulk stream sent), and the bulk stream holds back those devices' later records, so a lost priority batch is
 * simply sent again and each device's records still reach the hub in order. A priority batch never acknowledged after
 * LANE_TRIES sends (a hub without the lane refuses the envelope) is given up for the connection: everything is resent on
 * the bulk stream from the oldest record, so nothing waits forever; its records stay in the outbox until a priority ack
 * (a cumulative ack could be a late one that never covered them), and go in the lane again on the next connection.
 */
export class HubLink {
  private client: MqttClient | null = null;
  private ready = false; // connected and subscribed to ack/cmd
  private stopping = false;
  private inflight: InFlight[] = [];
  /** Highest seq sent on the current connection; the next batch starts after it. */
  private sentUpTo = 0;
  /** Highest seq ever sent on the bulk stream by this process: a cumulative ack beyond it cannot be for us. */
  private highestSent = 0;
  /** Highest seq ever sent in a priority batch by this process: a priority ack beyond it cannot be for us. */
  private highestLaneSent = 0;
  private lane: LaneBatch | null = null;
  /** Times the current priority batch went unacknowledged in a row. */
  private laneTimeouts = 0;
  /** The hub never acknowledged a priority batch on this connection (refused it: a hub without the lane): bulk only. */
  private laneOff = false;
  /**
   * Seqs of a priority batch given up for the connection: sent on the bulk stream now, but a cumulative ack still does
   * not delete them (it may be a late ack of a bulk batch sent while they were skipped); only a priority ack does. On
   * the next connection they go in the priority lane again.
   */
  private readonly owed = new Set<number>();
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
    if (this.lane) this.lane.onWire = false;
    this.laneTimeouts = 0;
    this.laneOff = false;
    if (!this.lane && this.owed.size > 0) {
      this.lane = { seqs: new Set(this.owed), devices: new Map(), sentAt: 0, onWire: false };
      this.owed.clear();
    }
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
    if (this.lane) this.lane.onWire = false;
    // mqtt.js would replay its unacknowledged publishes on reconnect, ahead of our resend from the
    // oldest record, which could put a newer batch before an older one. The outbox already holds them.
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
  }

  private pump(): void {
    const client = this.client;
    if (!client || !this.ready || this.stopping) return;
    // The priority lane first, whatever the bulk window holds.
    this.pumpLane(client);
    const lane = this.lane;
    while (this.inflight.length < this.o.maxInFlightBatches) {
      const records = this.o.outbox.peek(this.sentUpTo, this.o.batchSize);
      if (records.length === 0) return;
      const batch = this.batch();
      let cursor = this.sentUpTo;
      let last = 0;
      let blocked = false;
      for (const r of records) {
        if (lane) {
          // In the priority batch: it goes (and is acknowledged) there.
          if (lane.seqs.has(r.seq)) {
            cursor = r.seq;
            continue;
          }
          // A later record of a device in the priority batch waits for that batch's ack, so that a lost priority
          // batch, sent again, still puts the device's earlier records first.
          const held = lane.devices.get(r.device);
          if (held !== undefined && r.seq > held) {
            blocked = true;
            break;
          }
        }
        if (!batch.add(r)) break;
        cursor = last = r.seq;
      }
      this.sentUpTo = cursor;
      if (batch.size() > 0) {
        client.publish(this.topics.up, batch.json(), { qos: 1 }, () => {});
        this.o.metrics.batchSent();
        this.inflight.push({ lastSeq: last, sentAt: Date.now() });
        if (last > this.highestSent) this.highestSent = last;
      }
      if (blocked) return;
    }
  }

  /** An uplink batch's JSON built record by record: `add` refuses a record that would take it past maxBatchBytes (never the first). */
  private batch(lane?: 'priority') {
    const head = `{"v":${CONTRACT_VERSION},"gw":${JSON.stringify(this.o.gatewayId)},${lane ? `"lane":"${lane}",` : ''}"records":[`;
    const parts: string[] = [];
    let bytes = head.length + 2;
    return {
      add: (r: UplinkRecord): boolean => {
        const json = JSON.stringify(r);
        if (parts.length > 0 && bytes + json.length + 1 > this.o.maxBatchBytes) return false;
        parts.push(json);
        bytes += json.length + 1;
        return true;
      },
      size: () => parts.length,
      json: () => `${head}${parts.join(',')}]}`,
    };
  }

  /** Sends the priority batch (again, after a reconnect or timeout) or the next one, if there is one and none is on the wire. */
  private pumpLane(client: MqttClient): void {
    if (this.lane?.onWire || this.laneOff) return;
    let records = this.lane ? this.o.outbox.peekSeqs([...this.lane.seqs]) : [];
    if (this.lane && records.length === 0) this.lane = null;
    const again = this.lane !== null;
    // As many as a batch may hold (bytes still cut it): a device's earlier records go along, and may be many.
    if (!this.lane) records = this.o.outbox.peekPriority(this.sentUpTo, MAX_RECORDS_PER_BATCH);
    if (records.length === 0) return;
    const batch = this.batch('priority');
    const seqs = new Set<number>();
    const devices = new Map<string, number>();
    for (const r of records) {
      if (!batch.add(r)) break;
      seqs.add(r.seq);
      devices.set(r.device, r.seq); // seq order: the last one is the device's highest
      if (r.seq > this.highestLaneSent) this.highestLaneSent = r.seq;
    }
    client.publish(this.topics.up, batch.json(), { qos: 1 }, () => {});
    this.o.metrics.priorityBatch('sent');
    if (again) this.o.metrics.priorityBatch('resent');
    this.lane = { seqs, devices, sentAt: Date.now(), onWire: true };
  }

  private onAck(payload: Buffer): void {
    const parsed = parseJson(payload);
    const ack = parsed.ok ? validateAck(parsed.value) : parsed;
    if (!ack.ok) return this.o.refuse(ack.reason, { detail: ack.detail, topic: this.topics.ack }, 'invalid ack from the hub');
    if ('seqs' in ack.value) return this.onPriorityAck(ack.value.seqs);
    let upTo = ack.value.upTo;
    if (upTo > this.highestSent) {
      // Never delete what was not sent: such an ack is stale or not meant for this outbox.
      this.log.warn('ack_ahead', { upTo, highestSent: this.highestSent }, 'hub acknowledged records not sent yet; clamping');
      upTo = this.highestSent;
    }
    // Seqs of the priority batch were skipped by the bulk stream: only their own ack deletes them.
    if (upTo > 0) this.o.outbox.ackUpTo(upTo, this.owed.size ? [...(this.lane?.seqs ?? []), ...this.owed] : (this.lane?.seqs ?? []));
    this.inflight = this.inflight.filter((b) => b.lastSeq > upTo);
    if (this.sentUpTo < upTo) this.sentUpTo = upTo;
    this.pump();
  }

  /** The hub stored exactly these records of a priority batch: they go; once the batch is complete, the next may go. */
  private onPriorityAck(seqs: readonly number[]): void {
    const mine = seqs.filter((s) => s <= this.highestLaneSent);
    if (mine.length < seqs.length) {
      this.log.warn('ack_ahead', { seqs: seqs.length, highestLaneSent: this.highestLaneSent }, 'hub acknowledged priority records not sent yet; ignoring those');
    }
    if (mine.length > 0) this.o.outbox.ackSeqs(mine);
    for (const s of mine) this.owed.delete(s);
    const lane = this.lane;
    if (lane) {
      for (const s of mine) lane.seqs.delete(s);
      if (lane.seqs.size === 0) {
        this.lane = null;
        this.laneTimeouts = 0;
        this.o.metrics.priorityBatch('acked');
      }
    }
    this.pump();
  }

  private checkAckTimeout(): void {
    const lane = this.lane;
    if (this.ready && lane?.onWire && Date.now() - lane.sentAt >= this.o.retryMs) {
      this.log.warn('priority_ack_timeout', { retryMs: this.o.retryMs, records: lane.seqs.size }, 'no ack for the priority batch in time; sending it again');
      lane.onWire = false;
      if (++this.laneTimeouts >= LANE_TRIES) {
        // Refused each time (e.g. a hub without the lane rejects the envelope): nothing is lost, its records go on the
        // bulk stream, resent from the oldest, in seq order, until the next connection.
        this.log.warn('priority_lane_off', { tries: LANE_TRIES }, 'the hub never acknowledged the priority batch; sending everything on the bulk stream');
        this.o.metrics.priorityBatch('abandoned');
        for (const seq of lane.seqs) this.owed.add(seq);
        this.lane = null;
        this.laneOff = true;
        this.inflight = [];
        this.sentUpTo = 0;
      }
      this.pump();
    }
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
