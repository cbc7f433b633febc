import {
  RateLimitedLog,
  gatewayTopic,
  parseJson,
  validateInventory,
  validateStatus,
  type Ack,
  type GatewayChannel,
  type Result,
} from '@warden/contract';
import type { Logger } from 'pino';
import type { HubBus } from '../live/bus.ts';
import type { HubMetrics } from '../metrics.ts';
import type { DeviceRepo } from '../store/devices.ts';
import { excerpt, type DeadLetterRepo, type EventRepo, type StoredEvent, type TelemetryIdRepo } from '../store/events.ts';
import type { GatewayRepo, GatewayView } from '../store/gateways.ts';
import type { StateDb } from '../store/state-db.ts';
import type { TelemetryRow, TelemetryStore } from '../store/telemetry.ts';
import { Counter, Gauge, Histogram } from 'prom-client';
import { KeyedQueue, Mutex } from './queues.ts';
import { WalSync } from './wal-sync.ts';
import { isPriorityEvent, mayCarryPriority } from './safety-kinds.ts';
import { examineUplink, type Rejection, type UplinkPlan } from './uplink.ts';
import type { EventRecord, PriorityAck, TelemetryRecord } from '@warden/contract';

type OkPlan = Extract<UplinkPlan, { ok: true }>;
interface StoreResult {
  stored: StoredEvent[];
  telemetryRows: number;
  duplicates: number;
  /** Devices whose availability the stored events changed (announced after the commit). */
  availability: Array<NonNullable<ReturnType<DeviceRepo['setAvailability']>>>;
}
const LANE_MARKER = Buffer.from('"lane"');

/** An uplink message taken from the broker and not yet stored. */
interface PendingUplink {
  payload: Buffer;
  /** Examined early when the priority lane looked into it (then not examined again). */
  plan?: UplinkPlan;
  /**
   * Its bulk pass has handed its events before this index to storage turns (stored, or being stored under the lock):
   * the priority lane lifts only events from here on (the earlier ones are stored first, in order).
   */
  next: number;
}

export interface IngestorDeps {
  db: StateDb;
  gateways: GatewayRepo;
  devices: DeviceRepo;
  events: EventRepo;
  telemetryIds: TelemetryIdRepo;
  deadLetters: DeadLetterRepo;
  telemetry: TelemetryStore;
  metrics: HubMetrics;
  log: Logger;
  bus: HubBus;
  autoRegister: boolean;
  /** Hub -> gateway publish (no ACL). */
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
  /** The hub clock: receivedAt, lastSeen. */
  clock?: () => number;
  /** Bounds of the uplink backlog (bytes taken, not yet stored) and of one storage turn: see `IngestBounds`. */
  bounds?: Partial<IngestBounds>;
}

/**
 * How much the hub takes from gateways before it makes the broker wait (`room`), and how much one synchronous storage
 * turn handles. A gateway is held back (the broker stops reading its connection) when its own bulk backlog reaches
 * `maxGatewayBacklogBytes`, or when the hub's whole bulk backlog reaches `maxBacklogBytes` and the gateway has at least
 * `reserveBytes` of its own waiting: a noisy gateway never holds back a quiet one. Priority-lane batches count on their
 * own, up to `laneBytes` per gateway. Memory: at most maxBacklogBytes + gateways x (reserveBytes + laneBytes) + one
 * message per gateway.
 */
export interface IngestBounds {
  maxBacklogBytes: number;
  maxGatewayBacklogBytes: number;
  reserveBytes: number;
  laneBytes: number;
  /** Records (events and telemetry) one storage turn, and so one commit of a bulk batch, handles at most. */
  maxRecordsPerTurn: number;
}

export const DEFAULT_INGEST_BOUNDS: IngestBounds = {
  maxBacklogBytes: 64 * 1024 * 1024,
  maxGatewayBacklogBytes: 16 * 1024 * 1024,
  reserveBytes: 1024 * 1024,
  laneBytes: 1024 * 1024,
  maxRecordsPerTurn: 100,
};

/** One gateway's share of the backlog. */
interface GatewayBacklog {
  bulk: number;
  lane: number;
  waiters: Array<() => void>;
}

/**
 * Everything gateways send, processed one message at a time per gateway in arrival order: uplink batches are
 * validated, deduplicated and stored, then acknowledged; status and inventory keep the gateway and device
 * registries current. Refusals are counted, logged at a limited rate and kept as dead letters.
 */
export class Ingestor {
  private readonly queue = new KeyedQueue();
  private readonly storage = new Mutex();
  private readonly rlog: RateLimitedLog;
  private readonly now: () => number;
  /** Per gateway, uplinks taken and not yet stored, oldest first. */
  private readonly pending = new Map<string, PendingUplink[]>();
  /** Event ids the priority lane took out of pending uplinks: their bulk pass skips them (stored already). */
  private readonly lifted = new Set<string>();
  /** Per gateway, the lowest seq of a bulk batch that failed to store: no bulk ack goes out until a batch from it is stored. */
  private readonly unstored = new Map<string, number>();
  private backlogBytes = 0;
  private readonly backlogs = new Map<string, GatewayBacklog>();
  private readonly bounds: IngestBounds;
  /** Ingest commits without an fsync on the event loop; acks wait for `wal.sync()`. */
  readonly wal: WalSync;
  private readonly lane;
  /** Priority-lane batches taken and not yet stored and acknowledged (they bypass the per-gateway queue). */
  private readonly laneTasks = new Set<Promise<void>>();

  constructor(private readonly d: IngestorDeps) {
    this.rlog = new RateLimitedLog(d.log);
    this.now = d.clock ?? Date.now;
    this.bounds = { ...DEFAULT_INGEST_BOUNDS, ...d.bounds };
    this.wal = new WalSync(d.db);
    const registers = [d.metrics.registry];
    this.lane = {
      events: new Counter({ name: 'warden_hub_priority_events_total', help: 'Events stored through the priority lane (safety events and the earlier events of their devices)', registers }),
      seconds: new Histogram({ name: 'warden_hub_priority_store_seconds', help: 'Priority lane: message taken -> its safety events stored', buckets: [0.001, 0.005, 0.02, 0.05, 0.1, 0.5, 2], registers }),
      backlog: new Gauge({ name: 'warden_hub_ingest_backlog_bytes', help: 'Uplink bytes taken from gateways and not yet stored', registers }),
      held: new Counter({ name: 'warden_hub_ingest_held_total', help: 'Times a gateway was held back (the broker stopped reading it) because its backlog or the hub backlog reached its bound', labelNames: ['bound'], registers }),
      turn: new Histogram({ name: 'warden_hub_ingest_turn_seconds', help: 'One synchronous storage turn (one commit: telemetry append, events, their alarms)', buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25], registers }),
      batches: new Counter({ name: 'warden_hub_priority_batches_total', help: "Gateways' priority-lane batches stored and acknowledged by their seqs", registers }),
      ackHeld: new Counter({ name: 'warden_hub_ingest_acks_held_total', help: "Bulk batches stored but not acknowledged because an earlier batch of the same gateway failed to store (the gateway resends from its oldest unacknowledged record)", registers }),
      lifted: new Counter({ name: 'warden_hub_priority_lifted_total', help: 'Events the priority lane took out of bulk batches still waiting (earlier events of a safety device), stored ahead of them', registers }),
    };
  }

  /**
   * Resolves when the uplink backlog is under its bound: the broker awaits this (not the storage) before it takes
   * the next message, so safety events in later messages reach the priority lane while bulk batches wait to be stored.
   */
  room(gateway: string): Promise<void> {
    const b = this.backlogs.get(gateway);
    const held = b && this.holds(b);
    if (!b || !held) return Promise.resolve();
    this.lane.held.inc({ bound: held });
    return new Promise((resolve) => b.waiters.push(resolve));
  }

  /** The bound that holds this gateway back, if any. */
  private holds(b: GatewayBacklog): 'gateway' | 'hub' | 'lane' | undefined {
    const o = this.bounds;
    if (b.bulk >= o.maxGatewayBacklogBytes) return 'gateway';
    if (b.lane >= o.laneBytes) return 'lane';
    if (this.backlogBytes >= o.maxBacklogBytes && b.bulk >= o.reserveBytes) return 'hub';
    return undefined;
  }

  /** Bytes taken (positive) or stored (negative) for a gateway, on its bulk stream or its priority lane. */
  private account(gateway: string, bytes: number, lane: boolean): void {
    let b = this.backlogs.get(gateway);
    if (!b) this.backlogs.set(gateway, (b = { bulk: 0, lane: 0, waiters: [] }));
    if (lane) b.lane += bytes;
    else {
      b.bulk += bytes;
      this.backlogBytes += bytes;
    }
    this.lane.backlog.set(this.backlogBytes);
    if (bytes > 0) return;
    // Stored: wake this gateway if it is under its bounds now, and every other held gateway the hub bound was holding.
    const wake = (g: string, x: GatewayBacklog) => {
      if (x.waiters.length === 0 || this.holds(x)) return;
      for (const w of x.waiters.splice(0)) w();
      if (x.bulk === 0 && x.lane === 0) this.backlogs.delete(g);
    };
    wake(gateway, b);
    if (this.backlogBytes < this.bounds.maxBacklogBytes) for (const [g, x] of this.backlogs) wake(g, x);
    if (b.bulk === 0 && b.lane === 0 && b.waiters.length === 0) this.backlogs.delete(gateway);
  }

  /** Resolves once the message is fully handled (stored, or refused and dead-lettered). */
  handle(gateway: string, channel: GatewayChannel, payload: Buffer): Promise<void> {
    if (channel === 'up') return this.takeUplink(gateway, payload);
    return this.queue.run(gateway, () => {
      switch (channel) {
        case 'status':
          return this.status(gateway, payload);
        case 'inventory':
          return this.inventory(gateway, payload);
        default:
          return undefined;
      }
    });
  }

  gatewayConnected(gateway: string): Promise<void> {
    return this.queue.run(gateway, () => this.emitGateway(this.d.gateways.setOnline(gateway, true, this.now())));
  }

  /** A gateway without a last will (or whose will was refused) still shows offline when it goes away. */
  gatewayDisconnected(gateway: string): Promise<void> {
    return this.queue.run(gateway, () => {
      if (this.d.gateways.get(gateway)?.online) this.emitGateway(this.d.gateways.setOnline(gateway, false, this.now()));
    });
  }

  async idle(): Promise<void> {
    while (this.laneTasks.size > 0) await Promise.allSettled([...this.laneTasks]);
    await this.queue.idle();
    while (this.laneTasks.size > 0) await Promise.allSettled([...this.laneTasks]);
    await this.wal.close();
  }

  /**
   * An uplink is queued behind its gateway's earlier messages (bulk lane). If it may carry a safety event, it is
   * examined at once and its safety events go to the priority lane now: stored (ahead of every waiting bulk batch)
   * and raised, together with the earlier events of the same devices (from this message and from the gateway's
   * messages still waiting), so each device's events are still stored in order. The bulk pass later stores the
   * rest and acknowledges the message as before: nothing is acknowledged before it is stored.
   */
  private takeUplink(gateway: string, payload: Buffer): Promise<void> {
    const entry: PendingUplink = { payload, next: 0 };
    if (payload.includes(LANE_MARKER)) {
      entry.plan = examineUplink(gateway, payload, this.d.devices);
      if (entry.plan.ok && entry.plan.lane === 'priority') {
        const task = this.takeLane(gateway, payload, entry.plan);
        this.laneTasks.add(task);
        void task.then(
          () => this.laneTasks.delete(task),
          () => this.laneTasks.delete(task),
        );
        return task;
      }
    }
    const list = this.pending.get(gateway) ?? [];
    this.pending.set(gateway, list);
    list.push(entry);
    this.account(gateway, payload.length, false);
    if (mayCarryPriority(payload)) this.prioritise(gateway, entry, list);
    return this.queue.run(gateway, () => this.uplink(gateway, entry)).finally(() => {
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0 && this.pending.get(gateway) === list) this.pending.delete(gateway);
      this.account(gateway, -payload.length, false);
    });
  }

  /**
   * A priority-lane batch (the edge's safety records sent ahead of its backlog, each with the earlier queued records of
   * its device): not queued behind the gateway's bulk batches. Its devices' earlier events still waiting in bulk batches
   * here are lifted with it, and everything is stored in seq order ahead of every waiting bulk batch (the storage lock's
   * priority lane, FIFO), raised in the same commit, then acknowledged by the batch's seqs (never cumulatively: its seqs
   * are not contiguous). The bulk batches keep their order and later skip what was lifted.
   */
  private takeLane(gateway: string, payload: Buffer, plan: OkPlan): Promise<void> {
    const t0 = performance.now();
    this.d.metrics.batches.inc();
    this.account(gateway, payload.length, true);
    const top = new Map<string, number>();
    for (const e of plan.events) top.set(e.device, Math.max(top.get(e.device) ?? 0, e.seq));
    const take: EventRecord[] = [];
    const ids = new Set<string>();
    const liftedHere: string[] = [];
    const quoted = [...top.keys()].map((d) => Buffer.from(JSON.stringify(d)));
    for (const p of this.pending.get(gateway) ?? []) {
      if (p.plan === undefined && !quoted.some((q) => p.payload.includes(q))) continue;
      if (p.plan === undefined) p.plan = examineUplink(gateway, p.payload, this.d.devices);
      if (!p.plan.ok) continue;
      for (const e of p.plan.events.slice(p.next)) {
        const upTo = top.get(e.device);
        if (upTo === undefined || e.seq > upTo || this.lifted.has(e.id) || ids.has(e.id)) continue;
        ids.add(e.id);
        take.push(e);
        liftedHere.push(e.id);
      }
    }
    for (const e of plan.events) {
      if (ids.has(e.id)) continue;
      ids.add(e.id);
      take.push(e);
    }
    take.sort((a, b) => a.seq - b.seq);
    for (const id of liftedHere) this.lifted.add(id);
    return this.storage
      .lock(async () => {
        try {
          return await this.storeLocked(gateway, take, plan.telemetry, plan.rejections, () => false);
        } catch (err) {
          // Nothing of it is acknowledged: the gateway sends the batch again; the bulk batches store what they carry.
          for (const id of liftedHere) this.lifted.delete(id);
          throw err;
        }
      }, true)
      .then(async (result) => {
        this.d.metrics.ingestSeconds.observe((performance.now() - t0) / 1000);
        this.afterStore(result, plan.rejections);
        this.lane.batches.inc();
        if (result.stored.length) this.lane.events.inc(result.stored.length);
        if (liftedHere.length) this.lane.lifted.inc(liftedHere.length);
        this.lane.seconds.observe((performance.now() - t0) / 1000);
        // Acknowledged once the commit is on disk.
        await this.wal.sync();
        if (plan.seqs.length) this.sendAck(gateway, { v: 1, lane: 'priority', seqs: plan.seqs });
      })
      .finally(() => this.account(gateway, -payload.length, true));
  }

  private prioritise(gateway: string, entry: PendingUplink, list: PendingUplink[]): void {
    const t0 = performance.now();
    entry.plan = examineUplink(gateway, entry.payload, this.d.devices);
    if (!entry.plan.ok) return;
    const devices = new Set(entry.plan.events.filter((e) => isPriorityEvent(e.type)).map((e) => e.device));
    if (devices.size === 0) return;
    const take: EventRecord[] = [];
    const quoted = [...devices].map((d) => Buffer.from(JSON.stringify(d)));
    for (const p of list) {
      // Only messages naming one of these devices are parsed (a byte search first).
      if (p.plan === undefined && p !== entry && !quoted.some((q) => p.payload.includes(q))) continue;
      if (p.plan === undefined) p.plan = examineUplink(gateway, p.payload, this.d.devices);
      if (!p.plan.ok) continue;
      for (const e of p.plan.events.slice(p.next)) if (devices.has(e.device) && !this.lifted.has(e.id)) take.push(e);
      if (p === entry) break;
    }
    for (const e of take) this.lifted.add(e.id);
    void this.storage
      .lock(async () => {
        try {
          return await this.storeLocked(gateway, take, [], [], () => false);
        } catch (err) {
          // The bulk pass stores them instead (it runs after this: the priority lane goes first).
          for (const e of take) this.lifted.delete(e.id);
          throw err;
        }
      }, true)
      .then((result) => {
        this.afterStore(result, []);
        if (result.stored.length) this.lane.events.inc(result.stored.length);
        this.lane.seconds.observe((performance.now() - t0) / 1000);
      })
      .catch((err: unknown) => this.d.log.error({ err, gateway }, 'priority lane failed; the bulk pass stores the events'));
  }

  private async uplink(gateway: string, entry: PendingUplink): Promise<void> {
    const t0 = performance.now();
    this.d.metrics.batches.inc();
    const payload = entry.payload;
    const plan = entry.plan ?? examineUplink(gateway, payload, this.d.devices);
    if (!plan.ok) {
      await this.storage.lock(() => this.d.db.transaction(() => this.deadLetter([plan.rejection]))());
      this.refused([plan.rejection]);
      return;
    }
    entry.plan = plan;
    // In storage turns of at most maxRecordsPerTurn records each (telemetry first, then events in order), each its own
    // commit with its alarms: between two turns the event loop turns (sockets are read) and a waiting priority task
    // goes first. The message is acknowledged after its last turn: nothing before all of it is stored.
    const n = this.bounds.maxRecordsPerTurn;
    let tel = 0;
    let first = true;
    try {
      do {
        const result = await this.storage.lock(() => {
          const telemetry = plan.telemetry.slice(tel, tel + n);
          tel += telemetry.length;
          // Taken now, under the lock: the priority lane lifts only what lies after `next`.
          const events = plan.events.slice(entry.next, entry.next + n - telemetry.length);
          entry.next += events.length;
          // Skipped: stored already by the priority lane.
          return this.storeLocked(gateway, events, telemetry, first ? plan.rejections : [], (e) => this.lifted.delete(e.id));
        });
        this.afterStore(result, first ? plan.rejections : []);
        first = false;
      } while (tel < plan.telemetry.length || entry.next < plan.events.length);
      // Acknowledged once its commits are on disk (the fsync off the event loop, shared with other batches).
      await this.wal.sync();
    } catch (err) {
      // Not stored, so not acknowledged; and no later batch of this gateway may be acknowledged either until this one
      // is: an ack is cumulative, and acking a later seq would delete this batch from the gateway's outbox.
      const low = lowestSeq(plan.seqs);
      if (low !== null && low < (this.unstored.get(gateway) ?? Infinity)) this.unstored.set(gateway, low);
      throw err;
    }
    this.d.metrics.ingestSeconds.observe((performance.now() - t0) / 1000);
    if (plan.upTo === null) return;
    const hole = this.unstored.get(gateway);
    if (hole !== undefined) {
      const low = lowestSeq(plan.seqs);
      if (low === null || low > hole) {
        // Stored, but acking it would cover the unstored seqs. The gateway sends again from its oldest unacknowledged
        // record after its ack timeout (or on reconnect); that batch clears the hole and its ack covers this one.
        this.lane.ackHeld.inc();
        return;
      }
      this.unstored.delete(gateway);
    }
    this.sendAck(gateway, { v: 1, upTo: plan.upTo });
  }

  /** Holding the storage lock: telemetry, then events (in the given order, skipping `skip`), one SQLite commit. */
  private async storeLocked(
    gateway: string,
    events: readonly EventRecord[],
    telemetry: readonly TelemetryRecord[],
    rejections: readonly Rejection[],
    skip: (e: EventRecord) => boolean,
  ): Promise<StoreResult> {
    const receivedAt = this.now();
    const t0 = performance.now();
    let duplicates = 0;
    const fresh = new Set<string>();
    const rows: TelemetryRow[] = [];
    for (const t of telemetry) {
      if (fresh.has(t.id) || this.d.telemetryIds.seen(t.id)) {
        duplicates++;
        continue;
      }
      fresh.add(t.id);
      for (const [metric, value] of Object.entries(t.metrics)) rows.push({ ts: t.ts, device: t.device, metric, value });
    }
    // Telemetry first: if the hub dies between the two commits, a resend appends some rows twice; the other order
    // would remember ids whose rows never landed, and lose them.
    await this.d.telemetry.append(rows);
    const stored: StoredEvent[] = [];
    const availability: Array<NonNullable<ReturnType<DeviceRepo['setAvailability']>>> = [];
    this.wal.commit(() => {
      const lastSeen = new Map<string, number>();
      for (const e of events) {
        if (skip(e)) continue;
        const s = this.d.events.insert(e, gateway, receivedAt);
        if (!s) {
          duplicates++;
          continue;
        }
        stored.push(s);
        lastSeen.set(e.device, Math.max(lastSeen.get(e.device) ?? 0, e.ts));
        if (e.type === 'device.online' || e.type === 'device.offline') {
          const changed = this.d.devices.setAvailability(e.device, e.type === 'device.online', e.ts);
          if (changed) availability.push(changed);
        }
      }
      for (const t of telemetry) {
        if (!fresh.has(t.id)) continue;
        this.d.telemetryIds.remember(t.id, receivedAt);
        lastSeen.set(t.device, Math.max(lastSeen.get(t.device) ?? 0, t.ts));
      }
      for (const [device, ts] of lastSeen) this.d.devices.touch(device, ts);
      this.d.gateways.touch(gateway, receivedAt);
      this.deadLetter(rejections);
      // The alarm engine writes the batch's alarms in this same transaction (one commit, one fsync).
      if (stored.length) this.d.bus.emit('stored', stored);
    });
    this.lane.turn.observe((performance.now() - t0) / 1000);
    return { stored, telemetryRows: fresh.size, duplicates, availability };
  }

  /** After the commit: live messages, counters, refusals. */
  private afterStore(r: StoreResult, rejections: readonly Rejection[]): void {
    for (const dev of r.availability) this.d.bus.emit('device', { id: dev.id, gateway: dev.gateway, online: dev.online, lastSeen: dev.lastSeen });
    for (const e of r.stored) this.d.bus.emit('event', e);
    if (r.stored.length) this.d.metrics.stored.inc({ kind: 'event' }, r.stored.length);
    if (r.telemetryRows) this.d.metrics.stored.inc({ kind: 'telemetry' }, r.telemetryRows);
    if (r.duplicates) this.d.metrics.duplicates.inc(r.duplicates);
    this.refused(rejections);
  }

  /**
   * Not awaited: this runs inside the broker's delivery of the batch, and the ack's own delivery may queue behind it.
   * Acks still leave in the order they are published (the broker's queue is FIFO).
   */
  private sendAck(gateway: string, ack: Ack | PriorityAck): void {
    this.d.publish(gatewayTopic(gateway, 'ack'), JSON.stringify(ack), 1).then(
      () => this.d.metrics.acks.inc(),
      (err: unknown) => this.d.log.error({ err, gateway }, 'publishing an ack failed'),
    );
  }

  private status(gateway: string, payload: Buffer): void {
    const status = this.checked(gateway, payload, validateStatus);
    if (!status) return;
    this.emitGateway(this.d.gateways.applyStatus(gateway, status, this.now()));
  }

  private inventory(gateway: string, payload: Buffer): void {
    const inv = this.checked(gateway, payload, validateInventory);
    if (!inv) return;
    const out = this.d.devices.applyInventory(gateway, inv.devices, this.d.autoRegister, this.now());
    this.d.gateways.touch(gateway, this.now());
    const rejections: Rejection[] = out.refused.map((r) => ({
      gateway,
      reason: r.reason,
      detail: r.detail,
      raw: excerpt(JSON.stringify(inv.devices.find((x) => x.id === r.id) ?? r.id)),
    }));
    if (rejections.length) {
      this.d.db.transaction(() => this.deadLetter(rejections))();
      this.refused(rejections);
    }
    if (out.proposed.length || out.added.length || out.removed.length) {
      this.d.log.info({ gateway, proposed: out.proposed, removed: out.removed.length, updated: out.updated.length }, 'inventory applied; new devices wait for adoption');
    }
  }

  /** Parses and validates a gateway's status or inventory, whose `gw` must be the topic's. */
  private checked<T extends { gw: string }>(gateway: string, payload: Buffer, validate: (v: unknown) => Result<T>): T | null {
    const parsed = parseJson(payload);
    const result: Result<T> = parsed.ok ? validate(parsed.value) : parsed;
    let rejection: Rejection | null = null;
    if (!result.ok) rejection = { gateway, reason: result.reason, detail: result.detail, raw: excerpt(payload) };
    else if (result.value.gw !== gateway) {
      rejection = { gateway, reason: 'wrong_gateway', detail: `payload says gw ${JSON.stringify(result.value.gw)} on gateway ${gateway}'s topic`, raw: excerpt(payload) };
    }
    if (rejection) {
      this.d.db.transaction(() => this.deadLetter([rejection]))();
      this.refused([rejection]);
      return null;
    }
    return (result as { ok: true; value: T }).value;
  }

  private deadLetter(rejections: readonly Rejection[]): void {
    if (rejections.length === 0) return;
    for (const r of rejections) this.d.deadLetters.add(r);
    this.d.deadLetters.prune();
  }

  private refused(rejections: readonly Rejection[]): void {
    for (const r of rejections) {
      this.d.metrics.rejected.inc({ reason: r.reason });
      this.rlog.warn(r.reason, { gateway: r.gateway, recordId: r.recordId ?? undefined, detail: r.detail }, 'gateway input refused');
    }
  }

  private emitGateway(g: GatewayView | null): void {
    if (!g) return;
    this.d.metrics.gatewaysOnline.set(this.d.gateways.countOnline());
    this.d.bus.emit('gateway', { id: g.id, online: g.online, lastSeen: g.lastSeen, backlog: g.backlog });
  }
}

function lowestSeq(seqs: readonly number[]): number | null {
  let low: number | null = null;
  for (const s of seqs) if (low === null || s < low) low = s;
  return low;
}
