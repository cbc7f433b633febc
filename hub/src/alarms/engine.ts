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
import { ALARM_TYPES, type Alarm, type AlarmRule, type Finding, type RuleContext, type RuleInstance, type TimelineEntry } from './types.ts';

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
  private readonly onBusEvent = (e: StoredEvent) => this.handle(e);
  private readonly onBusGateway = (g: LiveMessages['gateway']) => this.gatewayChanged(g);
  /** Linkage work in flight, so stop() and tests can wait for it. */
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly d: AlarmEngineDeps) {
    this.clock = d.clock ?? Date.now;
    const registry = d.metrics.registry;
    this.counters = {
      raised: new Counter({ name: 'warden_hub_alarms_raised_total', help: 'Alarms raised, by type', labelNames: ['type'] as const, registers: [registry] }),
      repeated: new Counter({ name: 'warden_hub_alarms_repeated_total', help: 'Triggers folded into an open alarm (flood control)', registers: [registry] }),
      escalated: new Counter({ name: 'warden_hub_alarms_escalated_total', help: 'Alarms escalated for lack of acknowledgement', registers: [registry] }),
      errors: new Counter({ name: 'warden_hub_alarm_errors_total', help: 'Events an alarm rule failed on (logged)', labelNames: ['rule'] as const, registers: [registry] }),
    };
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
    });
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
    this.d.bus.on('gateway', this.onBusGateway);
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.d.bus.off('event', this.onBusEvent);
    this.d.bus.off('gateway', this.onBusGateway);
    clearInterval(this.timer);
    await this.idle();
  }

  /** Resolves when linkage commands started so far are handed to the broker. */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  handle(e: StoredEvent): void {
    if (e.type === 'command.result' || e.type === 'linkage.failsafe') this.linkage.onEvent(e);
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
    this.escalate(now);
    this.linkage.prune(now);
  }

  get(id: string): (Alarm & { timeline: TimelineEntry[]; cameras: string[] }) | null {
    const a = this.d.repo.get(id);
    if (!a) return null;
    return { ...a, timeline: this.d.repo.timeline(id), cameras: this.cameras(a) };
  }

  acknowledge(id: string, actor: string, note: string | null): Alarm {
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
    this.announce(a);
    return a;
  }

  /** Cameras of the alarm's zone, else of its building. */
  private cameras(a: Alarm): string[] {
    if (!a.building) return [];
    const all = this.d.devices.list({ building: a.building, kind: 'camera' });
    const zone = a.zone ? all.filter((c) => c.zone === a.zone) : [];
    return (zone.length ? zone : all).map((c) => c.id);
  }

  private escalate(now: number): void {
    const to = this.d.settings.raw.escalation.to;
    for (const a of this.d.repo.unescalatedRaised()) {
      const after = this.d.settings.escalateAfterMs(a.priority);
      if (after === null || now - a.firstAt < after) continue;
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
      device: (id) => this.d.devices.get(id),
      raise: (f) => this.raise(rule, f),
      clear: (f) => this.clear(f),
    };
  }

  private raise(rule: AlarmRule, f: Finding): void {
    const credential = f.credential ?? null;
    const eventId = f.event?.id;
    const entry = { ts: f.ts, ...(eventId ? { eventId } : {}), ...(f.detail ? { detail: f.detail } : {}) };
    let created = false;
    const alarm = this.d.repo.transaction(() => {
      const open = this.d.repo.findOpen(f.type, f.device, credential);
      if (open) {
        this.d.repo.addTimeline(open.id, 'repeated', entry);
        return this.d.repo.repeat(open.id, f.ts);
      }
      const dev = this.d.devices.get(f.device);
      const def = ALARM_TYPES[f.type];
      const where = dev?.name ?? f.device;
      const a = this.d.repo.create({
        rule: rule.id,
        type: f.type,
        priority: this.d.settings.priority(f.type),
        latching: def.latching,
        device: f.device,
        gateway: dev?.gateway ?? f.gateway ?? f.event?.gateway ?? null,
        building: dev?.building ?? null,
        zone: dev?.zone ?? null,
        credential,
        title: `${def.title}: ${where}${dev?.building ? ` (${dev.building})` : ''}${credential ? `, credential ${credential}` : ''}`,
        ts: f.ts,
      });
      this.d.repo.addTimeline(a.id, 'raised', entry);
      created = true;
      return a;
    });
    if (created) this.counters.raised.inc({ type: f.type });
    else this.counters.repeated.inc();
    this.announce(alarm);
    if (created) this.track(this.linkage.onRaised(alarm));
  }

  private clear(f: Finding): void {
    const credential = f.credential ?? null;
    const open = this.d.repo.findOpen(f.type, f.device, credential);
    if (!open) return;
    const entry = { ts: f.ts, ...(f.event ? { eventId: f.event.id } : {}) };
    if (this.d.settings.autoResolves(f.type)) {
      const now = this.clock();
      this.d.repo.transaction(() => {
        this.d.repo.markCleared(open.id);
        this.d.repo.addTimeline(open.id, 'condition_cleared', entry);
        this.d.repo.resolve(open.id, ALARMS_ACTOR, 'condition cleared', now);
        this.d.repo.addTimeline(open.id, 'auto_resolved', { ts: now, actor: ALARMS_ACTOR });
      });
      this.d.audit.record(ALARMS_ACTOR, 'alarm.auto_resolve', open.id, { type: open.type, device: open.device }, now);
    } else {
      if (open.conditionCleared) return;
      this.d.repo.transaction(() => {
        this.d.repo.markCleared(open.id);
        this.d.repo.addTimeline(open.id, 'condition_cleared', entry);
      });
    }
    this.announce(this.d.repo.get(open.id)!);
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
