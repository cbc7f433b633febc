import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { AuditLog } from '../audit.ts';
import type { CommandDeps } from '../commands.ts';
import { HubError } from '../errors.ts';
import type { HubBus, LiveMessages } from '../live/bus.ts';
import type { HubMetrics } from '../metrics.ts';
import type { DeviceRepo } from '../store/devices.ts';
import type { StoredEvent } from '../store/events.ts';
import { Linkage } from './linkage.ts';
import { RULES } from './rules/index.ts';
import type { AlarmSettings } from './settings.ts';
import type { AlarmRepo } from './store.ts';
import { ALARM_TYPES, type Alarm, type AlarmRule, type DurableMap, type Finding, type Priority, type RuleContext, type RuleInstance, type TimelineEntry } from './types.ts';

export const ALARMS_ACTOR = 'system:alarms';

export interface AlarmEngineDeps {
  repo: AlarmRepo;
  devices: DeviceRepo;
  audit: AuditLog;
  bus: HubBus;
  settings: AlarmSettings;
  commands: CommandDeps;
  metrics: HubMetrics;
  log: Logger;
  /** The hub's clock; tests pass their own and call tick() instead of waiting. */
  clock?: () => number;
  rules?: readonly AlarmRule[];
}

export interface BulkAckResult {
  acknowledged: string[];
  skipped: Array<{ id: string; reason: 'not_found' | 'not_raised' }>;
}

/**
 * Turns stored events (from the hub bus, i.e. only what ingest made durable) into alarms, keeps their lifecycle in
 * SQLite, escalates unacknowledged ones, runs linkage, and announces every change on the bus as `alarm`.
 */
export class AlarmEngine {
  private readonly clock: () => number;
  private readonly byEvent = new Map<string, Array<{ rule: AlarmRule; instance: RuleInstance }>>();
  private readonly ticking: RuleInstance[] = [];
  private readonly ruleOfType = new Map<string, string>();
  private readonly linkage: Linkage;
  private readonly counters;
  private timer: NodeJS.Timeout | undefined;
  private readonly onBusEvent = (e: StoredEvent) => this.handleDeferred(e);
  private readonly onBusStored = (events: StoredEvent[]) => this.handleInCommit(events);
  /** Events whose rules ran inside ingest's transaction -> what to announce once their `event` comes (after commit). */
  private readonly inCommit = new Map<string, { out: FlushOut; scheduled: boolean }>();
  private readonly onBusGateway = (g: LiveMessages['gateway']) => this.gatewayChanged(g);
  /** Linkage work in flight, so stop() and tests can wait for it. */
  private readonly inflight = new Set<Promise<void>>();
  /** Raises and clears not yet committed: one transaction per flush (group commit). */
  private ops: Op[] = [];
  /**
   * Rule-state writes not yet committed, coalesced by key (the last write of a flush wins: a credential seen five
   * times in one ingest batch is one row write), committed in the same transaction as the ops.
   */
  private stateOps = new Map<string, StateOp>();
  private flushQueued = false;
  /** Rule state as loaded at start, by rule id then map name. */
  private readonly durable = new Map<string, Map<string, Map<string, unknown>>>();
  /** Raised, unescalated alarms by escalation due time: a tick pops what is due instead of scanning every alarm. */
  private readonly escalations = new DueHeap();
  /** When finished linkage-journal rows were last pruned (hourly). */
  private journalPrunedAt = 0;
  /** Flood control per building and type (see Flood). */
  private readonly flood: Flood;

  constructor(private readonly d: AlarmEngineDeps) {
    this.clock = d.clock ?? Date.now;
    const registry = d.metrics.registry;
    this.counters = {
      raised: new Counter({ name: 'warden_hub_alarms_raised_total', help: 'Alarms raised, by type', labelNames: ['type'] as const, registers: [registry] }),
      repeated: new Counter({ name: 'warden_hub_alarms_repeated_total', help: 'Triggers folded into an open alarm (flood control)', registers: [registry] }),
      escalated: new Counter({ name: 'warden_hub_alarms_escalated_total', help: 'Alarms escalated for lack of acknowledgement', registers: [registry] }),
      errors: new Counter({ name: 'warden_hub_alarm_errors_total', help: 'Events an alarm rule failed on (logged)', labelNames: ['rule'] as const, registers: [registry] }),
      folded: new Counter({ name: 'warden_hub_alarms_storm_folded_total', help: 'New alarms folded into a building storm alarm (flood control)', labelNames: ['type'] as const, registers: [registry] }),
      commits: new Counter({ name: 'warden_hub_alarm_commits_total', help: 'Alarm group commits (one transaction each)', registers: [registry] }),
    };
    const flood = d.settings.raw.flood;
    this.flood = new Flood(flood.threshold, flood.windowSeconds * 1000);
    for (const r of d.repo.ruleStates()) {
      const byName = this.durable.get(r.rule) ?? new Map<string, Map<string, unknown>>();
      this.durable.set(r.rule, byName);
      const m = byName.get(r.name) ?? new Map<string, unknown>();
      byName.set(r.name, m);
      m.set(r.key, r.value);
    }
    // Once at start: every raised, unescalated alarm into the due index (then kept current as alarms are raised).
    for (const a of d.repo.unescalatedRaised()) this.scheduleEscalation(a);
    this.linkage = new Linkage({
      repo: d.repo,
      devices: d.devices,
      audit: d.audit,
      bus: d.bus,
      settings: d.settings,
      commands: d.commands,
      log: d.log,
      clock: this.clock,
      onChange: (a) => this.announce(a),
      retried: new Counter({
        name: 'warden_hub_linkage_retries_total',
        help: 'Linkage commands retried on the timer (alarms.linkageRetry), by outcome: scheduled, sent, not_sent, ok, failed, no_result, gave_up, stopped',
        labelNames: ['result'] as const,
        registers: [registry],
      }),
    });
    this.linkage.load();
    for (const rule of d.rules ?? RULES) {
      const instance = rule.create(this.context(rule));
      for (const t of rule.types) this.ruleOfType.set(t, rule.id);
      for (const ev of rule.events) {
        const list = this.byEvent.get(ev) ?? [];
        list.push({ rule, instance });
        this.byEvent.set(ev, list);
      }
      if (instance.tick) this.ticking.push(instance);
    }
  }

  /** Listens to the bus and ticks once a second (timers of held-open doors, offline debounce, escalation). */
  start(): void {
    this.d.bus.on('event', this.onBusEvent);
    this.d.bus.on('stored', this.onBusStored);
    this.d.bus.on('gateway', this.onBusGateway);
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  /**
   * Re-runs the linkage journal's pending linkage of open alarms (hub start): what a hub that died between storing an
   * alarm and its commands reaching the gateway did not finish. Devices of gateways not connected yet are resumed
   * when their gateway subscribes to its commands (gatewayReady).
   */
  resume(): Promise<void> {
    const p = this.linkage.resume();
    this.track(p);
    return p;
  }

  /** A gateway subscribed to its command topic: pending linkage for its devices can be handed over now. */
  gatewayReady(gateway: string): void {
    this.d.log.debug({ gateway }, 'gateway subscribed to commands; resuming pending linkage');
    this.track(this.linkage.resume());
  }

  async stop(): Promise<void> {
    this.d.bus.off('event', this.onBusEvent);
    this.d.bus.off('stored', this.onBusStored);
    this.d.bus.off('gateway', this.onBusGateway);
    clearInterval(this.timer);
    this.flush();
    await this.idle();
  }

  /** Resolves when linkage commands started so far are handed to the broker. */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  /** One event through the rules, its alarms committed before this returns (API, lifecycle, tests). */
  handle(e: StoredEvent): void {
    this.run(e);
    this.flush();
  }

  /**
   * An event from the bus: ingest emits a stored batch's events in one synchronous loop, so their alarms are
   * written in one transaction (group commit) right after the loop, then announced once per alarm.
   */
  private handleDeferred(e: StoredEvent): void {
    const pre = this.inCommit.get(e.id);
    if (pre) {
      // Its rules ran and its alarms were written in ingest's transaction; announce after the batch's emit loop.
      this.inCommit.delete(e.id);
      if (!pre.scheduled) {
        pre.scheduled = true;
        queueMicrotask(() => this.afterCommit(pre.out));
      }
      return;
    }
    this.run(e);
    if (!this.flushQueued && (this.ops.length || this.stateOps.size)) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /**
   * Called inside ingest's storage transaction with the batch's new events: the rules run and their alarm writes go
   * into that transaction (a savepoint), so a stored batch and its alarms are one commit. If the alarm writes fail,
   * the savepoint is rolled back and they are committed on their own instead; ingest is never failed by alarms.
   */
  private handleInCommit(events: StoredEvent[]): void {
    const earlier = this.ops;
    const earlierState = this.stateOps;
    this.ops = [];
    this.stateOps = new Map();
    for (const e of events) this.run(e);
    const mine = this.ops;
    const mineState = this.stateOps;
    this.ops = earlier;
    this.stateOps = earlierState;
    const out: FlushOut = { changed: new Map(), created: [], audits: [], storms: new Map() };
    if (mine.length || mineState.size) {
      try {
        this.d.repo.transaction(() => {
          for (const op of mine) this.apply(op, out);
          this.settleStorms(out);
          this.applyState(mineState);
        });
      } catch (err) {
        this.d.log.error({ err, ops: mine.length }, 'alarm writes in the ingest transaction failed; committing them on their own');
        this.ops.push(...mine);
        for (const [k, op] of mineState) this.stateOps.set(k, op);
        for (const e of events) this.inCommit.delete(e.id);
        return;
      }
    }
    if (this.inCommit.size > 100_000) this.inCommit.clear(); // batches whose transaction rolled back
    const entry = { out, scheduled: false };
    for (const e of events) this.inCommit.set(e.id, entry);
  }

  private run(e: StoredEvent): void {
    if (e.type === 'command.result' || e.type === 'linkage.failsafe') {
      try {
        this.linkage.onEvent(e);
      } catch (err) {
        // Runs inside ingest's transaction: a linkage bookkeeping failure must not fail the batch.
        this.counters.errors.inc({ rule: 'linkage' });
        this.d.log.error({ err, event: e.id }, 'linkage result bookkeeping failed');
      }
    }
    const rules = this.byEvent.get(e.type);
    if (!rules) return;
    for (const { rule, instance } of rules) {
      try {
        instance.onEvent(e);
      } catch (err) {
        // One broken rule must not stop the others nor ingest.
        this.counters.errors.inc({ rule: rule.id });
        this.d.log.error({ err, rule: rule.id, event: e.id }, 'alarm rule failed');
      }
    }
  }

  /**
   * A gateway's link to the hub is not an event a gateway can report itself; the hub's own view (birth, last will,
   * status) is handed to the rules as `gateway.online` / `gateway.offline`, keyed by the gateway id.
   */
  gatewayChanged(g: LiveMessages['gateway']): void {
    const now = this.clock();
    const type = g.online ? 'gateway.online' : 'gateway.offline';
    this.handle({ id: `hub-${type}-${g.id}-${now}`, seq: 0, gateway: g.id, device: g.id, type, ts: now, receivedAt: now, data: { lastSeen: g.lastSeen } });
  }

  tick(now = this.clock()): void {
    for (const instance of this.ticking) {
      try {
        instance.tick!(now);
      } catch (err) {
        this.d.log.error({ err }, 'alarm rule tick failed');
      }
    }
    this.flush();
    this.flood.prune(now);
    this.escalate(now);
    this.linkage.prune(now);
    for (const id of this.linkage.due(now)) this.track(this.linkage.resumeOne(id));
    for (const r of this.linkage.dueRetries(now)) this.track(this.linkage.retry(r.alarmId, r.keys));
    if (now - this.journalPrunedAt >= 3_600_000) {
      this.journalPrunedAt = now;
      this.d.repo.pruneLinkage(now - LINKAGE_JOURNAL_KEEP_MS);
    }
  }

  get(id: string): (Alarm & { timeline: TimelineEntry[]; cameras: string[] }) | null {
    const a = this.d.repo.get(id);
    if (!a) return null;
    return { ...a, timeline: this.d.repo.timeline(id), cameras: this.cameras(a) };
  }

  acknowledge(id: string, actor: string, note: string | null): Alarm {
    this.flush();
    const now = this.clock();
    const done = this.d.repo.transaction(() => {
      if (!this.d.repo.acknowledge(id, actor, note, now)) return false;
      this.d.repo.addTimeline(id, 'acknowledged', { ts: now, actor, ...(note ? { note } : {}) });
      return true;
    });
    const a = this.d.repo.get(id);
    if (!a) throw new HubError('not_found', `alarm ${id}`);
    if (!done) throw new HubError('alarm_not_raised', id, a.state);
    this.d.audit.record(actor, 'alarm.acknowledge', id, { type: a.type, device: a.device, note }, now);
    this.announce(a);
    return a;
  }

  acknowledgeMany(ids: readonly string[], actor: string, note: string | null): BulkAckResult {
    const out: BulkAckResult = { acknowledged: [], skipped: [] };
    for (const id of new Set(ids)) {
      try {
        this.acknowledge(id, actor, note);
        out.acknowledged.push(id);
      } catch (err) {
        if (!(err instanceof HubError)) throw err;
        out.skipped.push({ id, reason: err.code === 'not_found' ? 'not_found' : 'not_raised' });
      }
    }
    return out;
  }

  resolve(id: string, actor: string, note: string): Alarm {
    this.flush();
    const now = this.clock();
    const done = this.d.repo.transaction(() => {
      if (!this.d.repo.resolve(id, actor, note, now)) return false;
      this.d.repo.addTimeline(id, 'resolved', { ts: now, actor, note });
      return true;
    });
    const a = this.d.repo.get(id);
    if (!a) throw new HubError('not_found', `alarm ${id}`);
    if (!done) throw new HubError('alarm_resolved', id);
    this.d.audit.record(actor, 'alarm.resolve', id, { type: a.type, device: a.device, note, conditionCleared: a.conditionCleared }, now);
    this.linkage.closed(id);
    this.announce(a);
    return a;
  }

  /** Adopted cameras of the alarm's zone, else of its building (a proposed camera's place is only its gateway's claim). */
  private cameras(a: Alarm): string[] {
    if (!a.building) return [];
    const all = this.d.devices.list({ building: a.building, kind: 'camera', status: 'adopted' });
    const zone = a.zone ? all.filter((c) => c.zone === a.zone) : [];
    return (zone.length ? zone : all).map((c) => c.id);
  }

  private scheduleEscalation(a: Alarm): void {
    if (a.state !== 'raised' || a.escalatedAt !== null) return;
    const after = this.d.settings.escalateAfterMs(a.priority);
    if (after !== null) this.escalations.push(a.firstAt + after, a.id);
  }

  private escalate(now: number): void {
    const to = this.d.settings.raw.escalation.to;
    for (let due = this.escalations.popDue(now); due; due = this.escalations.popDue(now)) {
      const a = this.d.repo.get(due.id);
      if (!a || a.state !== 'raised' || a.escalatedAt !== null) continue;
      const after = this.d.settings.escalateAfterMs(a.priority);
      if (after === null) continue;
      const done = this.d.repo.transaction(() => {
        if (!this.d.repo.escalate(a.id, to, now)) return false;
        this.d.repo.addTimeline(a.id, 'escalated', { ts: now, actor: ALARMS_ACTOR, detail: { to, afterMs: after } });
        return true;
      });
      if (!done) continue;
      this.counters.escalated.inc();
      this.d.audit.record(ALARMS_ACTOR, 'alarm.escalate', a.id, { type: a.type, to, priority: a.priority }, now);
      this.announce(this.d.repo.get(a.id)!);
      // The escalation role's consoles alert on this, as on a linkage notification.
      this.d.bus.emit('linkage', { alarmId: a.id, action: 'notify', devices: [a.device], roles: [to] });
    }
  }

  private context(rule: AlarmRule): RuleContext {
    return {
      settings: this.d.settings,
      state: <T>(name: string) => this.stateOf<T>(rule.id, name),
      device: (id) => this.device(id),
      raise: (f) => void this.ops.push({ kind: 'raise', rule, f }),
      clear: (f) => void this.ops.push({ kind: 'clear', f }),
    };
  }

  /** Registry lookups, cached for one batch (cleared at each flush): a storm asks about the same devices a lot. */
  private readonly devCache = new Map<string, ReturnType<DeviceRepo['get']>>();
  private device(id: string): ReturnType<DeviceRepo['get']> {
    let d = this.devCache.get(id);
    if (d === undefined) {
      d = this.d.devices.get(id);
      if (this.devCache.size > 10_000) this.devCache.clear();
      this.devCache.set(id, d);
    }
    return d;
  }

  /** A rule's durable map: reads from memory, writes queued into the next group commit. */
  private stateOf<T>(rule: string, name: string): DurableMap<T> {
    const byName = this.durable.get(rule) ?? new Map<string, Map<string, unknown>>();
    this.durable.set(rule, byName);
    const m = (byName.get(name) ?? new Map<string, unknown>()) as Map<string, T>;
    byName.set(name, m);
    const write = (key: string, value: unknown) => this.stateOps.set(`${rule}\u0000${name}\u0000${key}`, { rule, name, key, value });
    return {
      get: (k) => m.get(k),
      has: (k) => m.has(k),
      set: (k, v) => {
        m.set(k, v);
        write(k, v);
      },
      delete: (k) => {
        if (!m.delete(k)) return;
        write(k, undefined);
      },
      get size() {
        return m.size;
      },
      // No copy: deleting entries while iterating (a tick or a sweep) is safe for a Map.
      [Symbol.iterator]: () => m.entries(),
    };
  }

  /**
   * Commits every queued raise, clear and rule-state write in one transaction, then announces each changed alarm
   * once (its latest state; life-safety priorities first) and starts linkage for the new ones. If the batch fails
   * as a whole, each op is retried in its own transaction so one bad finding costs only itself.
   */
  private flush(): void {
    this.flushQueued = false;
    if (this.ops.length === 0 && this.stateOps.size === 0) return;
    const ops = this.ops;
    const state = this.stateOps;
    this.ops = [];
    this.stateOps = new Map();
    const out: FlushOut = { changed: new Map(), created: [], audits: [], storms: new Map() };
    try {
      this.d.repo.transaction(() => {
        for (const op of ops) this.apply(op, out);
        this.settleStorms(out);
        this.applyState(state);
      });
      this.counters.commits.inc();
    } catch (err) {
      this.d.log.error({ err, ops: ops.length }, 'alarm group commit failed; retrying one by one');
      out.changed.clear();
      out.created.length = 0;
      out.audits.length = 0;
      out.storms.clear();
      for (const op of ops) {
        try {
          this.d.repo.transaction(() => {
            this.apply(op, out);
            this.settleStorms(out);
          });
        } catch (err1) {
          this.counters.errors.inc({ rule: op.kind === 'raise' ? op.rule.id : op.kind });
          this.d.log.error({ err: err1, op: op.kind }, 'alarm write failed');
        }
      }
      try {
        this.d.repo.transaction(() => this.applyState(state));
      } catch (err1) {
        this.counters.errors.inc({ rule: 'state' });
        this.d.log.error({ err: err1, writes: state.size }, 'alarm rule state write failed');
      }
    }
    this.afterCommit(out);
  }

  /** After the commit: audit, announce each changed alarm once (life-safety first), escalation index, linkage. */
  private afterCommit(out: FlushOut): void {
    this.devCache.clear();
    for (const a of out.audits) this.d.audit.record(ALARMS_ACTOR, a.action, a.id, a.detail, a.ts);
    const changed = [...out.changed.values()].sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority]);
    for (const a of changed) this.announce(a);
    for (const a of out.created) {
      this.counters.raised.inc({ type: a.type });
      this.scheduleEscalation(a);
      if (!a.device.startsWith(STORM_DEVICE_PREFIX)) this.track(this.linkage.onRaised(a));
    }
  }

  /** Writes the folded counts of this flush's storm alarms (one update per storm alarm, not one per trigger). */
  private settleStorms(out: FlushOut): void {
    for (const [key, s] of out.storms) {
      if (s.n > 0) this.d.repo.repeatMany(s.id, s.n, s.last);
      out.changed.set(s.id, this.d.repo.get(s.id)!);
      out.storms.delete(key);
    }
  }

  private apply(op: Op, out: FlushOut): void {
    if (op.kind === 'raise') this.applyRaise(op.rule, op.f, out);
    else this.applyClear(op.f, out);
  }

  private applyState(state: Map<string, StateOp>): void {
    for (const w of state.values()) this.d.repo.setRuleState(w.rule, w.name, w.key, w.value);
  }

  private applyRaise(rule: AlarmRule, f: Finding, out: FlushOut): void {
    const credential = f.credential ?? null;
    const eventId = f.event?.id;
    const entry = { ts: f.ts, ...(eventId ? { eventId } : {}), ...(f.detail ? { detail: f.detail } : {}) };
    const open = this.d.repo.findOpen(f.type, f.device, credential);
    if (open) {
      this.d.repo.addTimeline(open.id, 'repeated', entry);
      this.counters.repeated.inc();
      out.changed.set(open.id, this.d.repo.repeat(open.id, f.ts));
      return;
    }
    const dev = this.device(f.device);
    const building = dev?.building ?? null;
    const def = ALARM_TYPES[f.type];
    if (this.flood.folds(f.type, building, f.device, this.clock())) {
      // A storm: this device already has its own alarm of this type in the storm; the trigger is counted (and kept,
      // with its device, credential and event, on the timeline) in the building's storm alarm.
      const stormDevice = `${STORM_DEVICE_PREFIX}${building ?? 'campus'}`;
      const detail = { device: f.device, ...(credential ? { credential } : {}), ...(f.detail ? { finding: f.detail } : {}) };
      const key = `${f.type}|${stormDevice}`;
      this.counters.folded.inc({ type: f.type });
      let storm = out.storms.get(key);
      if (!storm) {
        const open = this.d.repo.findOpen(f.type, stormDevice, null);
        if (open) out.storms.set(key, (storm = { id: open.id, n: 0, last: f.ts }));
      }
      if (storm) {
        this.d.repo.addTimeline(storm.id, 'repeated', { ts: f.ts, ...(eventId ? { eventId } : {}), detail });
        storm.n++;
        storm.last = Math.max(storm.last, f.ts);
        return;
      }
      const a = this.d.repo.create({
        rule: rule.id,
        type: f.type,
        priority: this.d.settings.priority(f.type),
        latching: def.latching,
        device: stormDevice,
        gateway: dev?.gateway ?? f.gateway ?? f.event?.gateway ?? null,
        building,
        zone: null,
        credential: null,
        title: `Alarm storm: ${def.title}${building ? ` (${building})` : ''}; each device's first alarm is its own, further triggers are counted here`,
        ts: f.ts,
      });
      this.d.repo.addTimeline(a.id, 'raised', { ts: f.ts, ...(eventId ? { eventId } : {}), detail: { ...detail, storm: true, threshold: this.flood.threshold } });
      out.storms.set(key, { id: a.id, n: 0, last: f.ts });
      out.created.push(a);
      return;
    }
    const where = dev?.name ?? f.device;
    const a = this.d.repo.create({
      rule: rule.id,
      type: f.type,
      priority: this.d.settings.priority(f.type),
      latching: def.latching,
      device: f.device,
      gateway: dev?.gateway ?? f.gateway ?? f.event?.gateway ?? null,
      building,
      zone: dev?.zone ?? null,
      credential,
      title: `${def.title}: ${where}${dev?.building ? ` (${dev.building})` : ''}${credential ? `, credential ${credential}` : ''}`,
      ts: f.ts,
    });
    this.d.repo.addTimeline(a.id, 'raised', entry);
    // The linkage due for it is journalled in the same commit: a hub dying before the commands reach the gateway
    // finds it pending at its next start (Linkage.resume).
    if (this.d.settings.linkageFor(a.type, a.building, a.zone).length) this.d.repo.journalLinkage(a.id, this.clock());
    out.changed.set(a.id, a);
    out.created.push(a);
  }

  private applyClear(f: Finding, out: FlushOut): void {
    const credential = f.credential ?? null;
    const open = this.d.repo.findOpen(f.type, f.device, credential);
    if (!open) return;
    const entry = { ts: f.ts, ...(f.event ? { eventId: f.event.id } : {}) };
    if (this.d.settings.autoResolves(f.type)) {
      const now = this.clock();
      this.d.repo.markCleared(open.id);
      this.d.repo.addTimeline(open.id, 'condition_cleared', entry);
      this.d.repo.resolve(open.id, ALARMS_ACTOR, 'condition cleared', now);
      this.d.repo.addTimeline(open.id, 'auto_resolved', { ts: now, actor: ALARMS_ACTOR });
      out.audits.push({ action: 'alarm.auto_resolve', id: open.id, detail: { type: open.type, device: open.device }, ts: now });
    } else {
      if (open.conditionCleared) return;
      this.d.repo.markCleared(open.id);
      this.d.repo.addTimeline(open.id, 'condition_cleared', entry);
    }
    out.changed.set(open.id, this.d.repo.get(open.id)!);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private announce(a: Alarm): void {
    this.d.bus.emit('alarm', a);
  }

  /** Which rule raises an alarm type (for the API's rule listing and tests). */
  ruleFor(type: string): string | undefined {
    return this.ruleOfType.get(type);
  }
}

/** Finished linkage-journal rows are kept this long. */
const LINKAGE_JOURNAL_KEEP_MS = 7 * 86_400_000;

/** Alarms on these pseudo-devices are building storm alarms (flood control), one per building and type. */
export const STORM_DEVICE_PREFIX = 'storm:';

const PRIORITY_RANK: Record<Priority, number> = { critical: 0, high: 1, medium: 2, low: 3 };

type Op = { kind: 'raise'; rule: AlarmRule; f: Finding } | { kind: 'clear'; f: Finding };

/** A rule-state write (value undefined = delete). */
interface StateOp {
  rule: string;
  name: string;
  key: string;
  value: unknown;
}

interface FlushOut {
  changed: Map<string, Alarm>;
  created: Alarm[];
  audits: Array<{ action: string; id: string; detail: Record<string, unknown>; ts: number }>;
  /** Storm alarms touched in this flush: key -> id, folds not yet counted, latest trigger time. */
  storms: Map<string, { id: string; n: number; last: number }>;
}

/**
 * Flood control across devices: once more than `threshold` new alarms of one type were raised in one building
 * within `windowMs` (hub clock), a device that already has its alarm of that type in this storm gets no further
 * alarm of its own (a new credential at the same turnstile, say): the trigger is folded into the building's storm
 * alarm, which counts them. A device's first alarm is always its own. The storm ends after a quiet window.
 */
export class Flood {
  private readonly storms = new Map<string, { since: number; last: number; created: number; devices: Set<string> }>();
  constructor(
    readonly threshold: number,
    private readonly windowMs: number,
  ) {}

  /** Called for each alarm about to be created; true = fold it into the storm alarm instead. */
  folds(type: string, building: string | null, device: string, now: number): boolean {
    const key = `${type}|${building ?? ''}`;
    let s = this.storms.get(key);
    if (!s || now - s.last > this.windowMs) {
      s = { since: now, last: now, created: 0, devices: new Set() };
      this.storms.set(key, s);
    }
    s.last = now;
    if (s.created >= this.threshold && s.devices.has(device)) return true;
    s.created++;
    s.devices.add(device);
    return false;
  }

  prune(now: number): void {
    for (const [k, s] of this.storms) if (now - s.last > this.windowMs) this.storms.delete(k);
  }
}

/** A binary min-heap of (due, id). */
class DueHeap {
  private readonly a: Array<{ due: number; id: string }> = [];
  push(due: number, id: string): void {
    const a = this.a;
    a.push({ due, id });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.due <= a[i]!.due) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  popDue(now: number): { due: number; id: string } | undefined {
    const a = this.a;
    if (!a.length || a[0]!.due > now) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.due < a[m]!.due) m = l;
        if (r < a.length && a[r]!.due < a[m]!.due) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
  get size(): number {
    return this.a.length;
  }
}
