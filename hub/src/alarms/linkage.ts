import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { HubError } from '../errors.ts';
import type { LinkageMessage } from '@warden/contract';
import { sendCommand, type CommandDeps } from '../commands.ts';
import type { AuditLog } from '../audit.ts';
import type { HubBus } from '../live/bus.ts';
import type { DeviceRepo, DeviceView } from '../store/devices.ts';
import type { StoredEvent } from '../store/events.ts';
import type { AlarmSettings, LinkageConfig } from './settings.ts';
import type { AlarmRepo, LinkageJournal } from './store.ts';
import { ALARM_TYPES, type Alarm, type AlarmType } from './types.ts';

export const LINKAGE_ACTOR = 'system:linkage';

/** How long a sent command's result is awaited for the timeline (well past any command ttl). */
const RESULT_WAIT_MS = 10 * 60_000;
/** After a command's ttl, how long its late result (from the gateway's outbox) may still take before a resend. */
const RESULT_GRACE_MS = 5_000;
/** Refusals that will not change by trying again: the linkage command counts as finished (with its error). */
const FOR_GOOD = new Set(['not_found', 'unknown_action', 'action_not_supported', 'validation_failed', 'forbidden']);
/** A gateway's failed command.result that trying again will not change (edge/src/commands.ts): no retry. */
const FAILED_FOR_GOOD = /^unknown device |is not supported by /;

/** Outcomes counted in warden_hub_linkage_retries_total{result}. */
export type RetryResult = 'scheduled' | 'sent' | 'not_sent' | 'ok' | 'failed' | 'no_result' | 'gave_up' | 'stopped';

/** One run of an alarm's linkage: the first after the commit, or a resumed one (restart, gateway back). */
interface Run {
  resumed: boolean;
  /** Every command the linkage comprises, as keys (device|action|params). */
  needed: string[];
  /** Commands handed over in this run. */
  sent: number;
  /** A timer retry: only these commands (key -> retry number) are sent. */
  retry?: Map<string, number>;
  /** The journal as the run started (a resumed run skips what is finished or still in flight). */
  journal: LinkageJournal | null;
}

const commandKey = (device: string, action: string, params: Record<string, unknown>) => `${device}|${action}|${JSON.stringify(params)}`;

/** The live `linkage` message: its shape is the contract's (contract/src/api/live.ts). */
export type { LinkageMessage } from '@warden/contract';

/**
 * Automatic reactions to a new alarm (alarms.linkage): release evacuation doors, free turnstiles, pop cameras,
 * notify. Commands go the same way as an operator's (contract-validated, to the device's gateway) with admin
 * rights; every one is audited as system:linkage and its command.result is written to the alarm's timeline.
 */
export class Linkage {
  private readonly awaiting = new Map<
    string,
    { alarmId: string; action: string; device: string; sentAt: number; key?: string; retry?: number; expired?: boolean }
  >();
  /**
   * Timer retries (alarms.linkageRetry), per alarm and command key: retries fired so far and when the next is due
   * (hub clock; null while a sent retry awaits its result). In memory: a restarted hub resumes every unfinished
   * command at once and the backoff starts again.
   */
  private readonly retries = new Map<string, Map<string, { attempts: number; at: number | null }>>();
  /** device + action + params -> the open alarm it was sent for: a second detector in the same fire does not resend. */
  private readonly released = new Map<string, string>();
  /** Alarms whose linkage is running now -> run it again (resumed) when done. */
  private readonly running = new Map<string, boolean>();
  /** Pending alarms to look at again (hub clock): commands of an earlier run in flight until their ttl passes. */
  private readonly recheck = new Map<string, number>();
  constructor(
    private readonly d: {
      repo: AlarmRepo;
      devices: DeviceRepo;
      audit: AuditLog;
      bus: HubBus;
      settings: AlarmSettings;
      commands: CommandDeps;
      log: Logger;
      clock: () => number;
      onChange(alarm: Alarm): void;
      /** warden_hub_linkage_retries_total{result} */
      retried?: Counter<'result'>;
    },
  ) {}

  /**
   * At start: the commands the journal says were handed over and not answered are awaited again, so their results
   * (still in a gateway's outbox) land on the alarm's timeline and finish its linkage.
   */
  load(): void {
    for (const j of this.d.repo.pendingLinkage()) {
      for (const [commandId, s] of Object.entries(j.sent)) {
        const [device = '', action = ''] = s.key.split('|');
        this.awaiting.set(commandId, { alarmId: j.alarm, action, device, sentAt: s.at, key: s.key });
      }
    }
  }

  /** Runs every linkage entry matching the alarm; resolves when the commands are handed to the broker. */
  async onRaised(alarm: Alarm): Promise<void> {
    try {
      await this.runAll(alarm, false);
    } catch (err) {
      this.d.log.error({ err, alarm: alarm.id }, 'alarm linkage failed');
    }
  }

  /**
   * Re-runs the pending linkage of every open alarm in the journal (a restarted hub; a gateway that subscribed to its
   * commands again): commands not finished and not in flight are sent again, to devices whose gateway is connected.
   * Linkage commands are idempotent (hold open, free, a preset); each resent one is on the alarm's timeline with
   * `resumed: true`, and the resumption is audited (linkage.resume).
   */
  async resume(): Promise<void> {
    try {
      for (const j of this.d.repo.pendingLinkage()) await this.resumeOne(j.alarm);
    } catch (err) {
      this.d.log.error({ err }, 'resuming pending linkage failed');
    }
  }

  /** Alarms whose in-flight commands' ttl (plus a grace for late results) has passed by `now`. */
  due(now: number): string[] {
    const out: string[] = [];
    for (const [id, at] of this.recheck) if (at <= now) (out.push(id), this.recheck.delete(id));
    return out;
  }

  /**
   * Timer retries due by `now`, per alarm: the command keys and their retry numbers. A command handed over whose
   * result has not come within its ttl plus a grace (the gateway refuses it as expired from then on) counts as
   * failed here and gets its retry scheduled.
   */
  dueRetries(now: number): Array<{ alarmId: string; keys: Map<string, number> }> {
    for (const w of this.awaiting.values()) {
      if (!w.key || w.expired || now < w.sentAt + this.d.commands.ttlMs + RESULT_GRACE_MS) continue;
      w.expired = true;
      if (w.retry) this.d.retried?.inc({ result: 'no_result' });
      this.scheduleRetry(w.alarmId, w.key, w.action, w.device, 'no result within the command ttl');
    }
    const out: Array<{ alarmId: string; keys: Map<string, number> }> = [];
    for (const [alarmId, m] of this.retries) {
      const keys = new Map<string, number>();
      for (const [key, e] of m) {
        if (e.at === null || e.at > now) continue;
        e.at = null;
        e.attempts++;
        keys.set(key, e.attempts);
      }
      if (keys.size) out.push({ alarmId, keys });
    }
    return out;
  }

  /** Runs the due retries of one alarm (never rejects). */
  retry(alarmId: string, keys: Map<string, number>): Promise<void> {
    return this.rerun(alarmId, 'retrying', keys);
  }

  /** The alarm was resolved: its retries stop (its doors are the operators' business now). */
  closed(alarmId: string): void {
    this.stopRetries(alarmId, undefined, true);
  }

  /**
   * A command of an alarm's linkage failed (its result, no result within the ttl, or not handed over for a reason
   * other than its gateway being offline): its next retry is scheduled, unless the retries are used up.
   */
  private scheduleRetry(alarmId: string, key: string, action: string, device: string, why: string): void {
    const j = this.d.repo.linkageJournal(alarmId);
    if (!j || j.state === 'done' || j.done.includes(key)) return;
    const m = this.retries.get(alarmId) ?? new Map<string, { attempts: number; at: number | null }>();
    const e = m.get(key) ?? { attempts: 0, at: null };
    if (e.at !== null) return; // already scheduled
    const delay = this.d.settings.linkageRetryDelayMs(e.attempts + 1);
    const now = this.d.clock();
    if (delay === null) {
      m.delete(key);
      if (!m.size) this.retries.delete(alarmId);
      if (!this.d.settings.raw.linkageRetry.enabled) return;
      this.d.retried?.inc({ result: 'gave_up' });
      this.d.repo.addTimeline(alarmId, 'linkage.command', { ts: now, actor: LINKAGE_ACTOR, detail: { action, device, gaveUp: true, retries: e.attempts, error: why } });
      this.d.audit.record(LINKAGE_ACTOR, 'linkage.gave_up', device, { alarm: alarmId, action, retries: e.attempts, error: why }, now);
      return;
    }
    e.at = now + delay;
    m.set(key, e);
    this.retries.set(alarmId, m);
    this.d.retried?.inc({ result: 'scheduled' });
  }

  /** Forgets retries of an alarm (or one of its commands); `closed`: counted as stopped by the alarm's resolution. */
  private stopRetries(alarmId: string, key?: string, closed = false): void {
    const m = this.retries.get(alarmId);
    if (!m) return;
    if (key === undefined) {
      if (closed && m.size) this.d.retried?.inc({ result: 'stopped' }, m.size);
      this.retries.delete(alarmId);
      return;
    }
    m.delete(key);
    if (!m.size) this.retries.delete(alarmId);
  }

  /** Never rejects (a failure is logged): called from timers and broker events. */
  resumeOne(alarmId: string): Promise<void> {
    return this.rerun(alarmId, 'resuming');
  }

  /** Runs an alarm's unfinished linkage again (all of it, or the due retries `keys`); never rejects. */
  private async rerun(alarmId: string, what: 'resuming' | 'retrying', keys?: Map<string, number>): Promise<void> {
    try {
      const alarm = this.d.repo.get(alarmId);
      if (!alarm || alarm.state === 'resolved') {
        // Nothing left to do for a resolved alarm: its doors are the operators' business now.
        this.stopRetries(alarmId, undefined, true);
        this.update(alarmId, (j) => void (j.state = 'done'));
        return;
      }
      await this.runAll(alarm, true, keys);
    } catch (err) {
      this.d.log.error({ err, alarm: alarmId }, `${what} an alarm linkage failed`);
    }
  }

  private async runAll(alarm: Alarm, resumed: boolean, retry?: Map<string, number>): Promise<void> {
    if (this.running.has(alarm.id)) {
      // Run again when this one is done (a retry then goes as a resumption: what is in flight is not resent).
      this.running.set(alarm.id, true);
      return;
    }
    this.running.set(alarm.id, false);
    const run: Run = { resumed, needed: [], sent: 0, journal: this.d.repo.linkageJournal(alarm.id), ...(retry ? { retry } : {}) };
    if (resumed && run.journal?.state !== 'pending') {
      this.running.delete(alarm.id);
      return;
    }
    try {
      for (const l of this.d.settings.linkageFor(alarm.type, alarm.building, alarm.zone)) {
        try {
          await this.run(alarm, l, run);
        } catch (err) {
          this.d.log.error({ err, alarm: alarm.id }, 'alarm linkage failed');
        }
      }
      this.update(alarm.id, (j) => void (j.needed = [...new Set([...(j.needed ?? []), ...run.needed])]));
      if (run.retry && run.sent) this.d.onChange(this.d.repo.get(alarm.id) ?? alarm);
      else if (resumed && run.sent) {
        const now = this.d.clock();
        this.update(alarm.id, (j) => void j.resumed++);
        this.d.audit.record(LINKAGE_ACTOR, 'linkage.resume', alarm.id, { type: alarm.type, device: alarm.device, commands: run.sent, raisedAt: alarm.firstAt }, now);
        this.d.onChange(this.d.repo.get(alarm.id) ?? alarm);
      }
    } finally {
      const again = this.running.get(alarm.id);
      this.running.delete(alarm.id);
      if (again) await this.resumeOne(alarm.id);
    }
  }

  /** One of the alarm's linkage commands needs nothing more (skipped for another open alarm, or refused for good). */
  private finished(alarmId: string, key: string): void {
    this.stopRetries(alarmId, key);
    this.update(alarmId, (j) => void (j.done.includes(key) || j.done.push(key)));
  }

  /** Read, change and write an alarm's journal row in one synchronous step; done once every needed command is. */
  private update(alarmId: string, fn: (j: LinkageJournal) => void): void {
    const j = this.d.repo.linkageJournal(alarmId);
    if (!j || j.state === 'done') return;
    fn(j);
    if (j.state === 'pending' && j.needed !== null && j.needed.every((k) => j.done.includes(k)) && Object.keys(j.sent).length === 0) j.state = 'done';
    if (j.state === 'done') (this.recheck.delete(alarmId), this.stopRetries(alarmId));
    this.d.repo.saveLinkage(j);
  }

  /** command.result events of linkage commands go to the alarm's timeline and the console. */
  onEvent(e: StoredEvent): void {
    if (e.type === 'linkage.failsafe') return this.failsafe(e);
    if (e.type !== 'command.result') return;
    const commandId = String(e.data.command);
    const w = this.awaiting.get(commandId);
    if (!w) return;
    this.awaiting.delete(commandId);
    const ok = e.data.ok === true;
    const key = w.key;
    const error = typeof e.data.error === 'string' ? e.data.error : undefined;
    if (w.retry) this.d.retried?.inc({ result: ok ? 'ok' : 'failed' });
    if (key) {
      // A failed command stays unfinished: it is retried on the timer (alarms.linkageRetry), and at the next
      // resumption (restart, gateway back); a failure that retrying cannot change finishes it with its error.
      this.update(w.alarmId, (j) => {
        delete j.sent[commandId];
        if (ok && !j.done.includes(key)) j.done.push(key);
      });
      if (ok) this.stopRetries(w.alarmId, key);
      else if (error && FAILED_FOR_GOOD.test(error)) this.finished(w.alarmId, key);
      else if (!w.expired) this.scheduleRetry(w.alarmId, key, w.action, w.device, error ?? 'failed');
    }
    this.d.repo.addTimeline(w.alarmId, 'linkage.result', {
      ts: e.ts,
      actor: LINKAGE_ACTOR,
      eventId: e.id,
      detail: { action: w.action, device: w.device, commandId, ok, ...(error ? { error } : {}) },
    });
    this.emit({ alarmId: w.alarmId, action: w.action, devices: [w.device], commandId, ok, ...(error ? { error } : {}) });
    const alarm = this.d.repo.get(w.alarmId);
    if (alarm) this.d.onChange(alarm);
  }

  /** Forgets commands whose result never came (the gateway refused or lost them: the timeline shows no result). */
  prune(now: number): void {
    for (const [id, w] of this.awaiting) if (now - w.sentAt > RESULT_WAIT_MS) this.awaiting.delete(id);
  }

  /**
   * A gateway released doors on its own (hub link down, or our release not confirmed in time) and reports it once
   * the link is back: the actions go into the triggering alarm's timeline, their command.results follow, and the
   * gateway's action is audited under its own name.
   */
  private failsafe(e: StoredEvent): void {
    const actions = Array.isArray(e.data.actions) ? (e.data.actions as Array<{ device: string; action: string; command: string }>) : [];
    const trigger = String(e.data.trigger);
    const type: AlarmType = Object.hasOwn(ALARM_TYPES, trigger) ? (trigger as AlarmType) : 'fire.alarm';
    const alarm = this.d.repo.findOpen(type, e.device, null);
    const actor = `gateway:${e.gateway}`;
    this.d.audit.record(actor, 'linkage.failsafe', e.device, { alarm: alarm?.id ?? null, reason: e.data.reason, actions, eventId: e.id }, this.d.clock());
    if (!alarm) return;
    for (const a of actions) this.awaiting.set(a.command, { alarmId: alarm.id, action: a.action, device: a.device, sentAt: this.d.clock() });
    this.d.repo.addTimeline(alarm.id, 'linkage.failsafe', { ts: e.ts, actor, eventId: e.id, detail: { reason: e.data.reason, actions } });
    for (const action of new Set(actions.map((a) => a.action))) {
      this.emit({ alarmId: alarm.id, action, devices: actions.filter((a) => a.action === action).map((a) => a.device).sort(), failsafe: true });
    }
    this.d.onChange(alarm);
  }

  /** Adopted devices only: a proposed device's building is merely what its gateway claims. */
  private buildingDevices(alarm: Alarm, kind: string): DeviceView[] {
    return alarm.building ? this.d.devices.list({ building: alarm.building, kind, status: 'adopted' }) : [];
  }

  private async run(alarm: Alarm, l: LinkageConfig, run: Run): Promise<void> {
    const hold = l.holdOpen ?? 'none';
    if (hold !== 'none') {
      let doors: string[];
      if (Array.isArray(hold)) doors = hold;
      else {
        const routes = hold === 'evacuation' && alarm.building ? this.d.settings.raw.evacuationRoutes[alarm.building] : undefined;
        doors = routes ?? this.buildingDevices(alarm, 'door').map((d) => d.id);
      }
      await this.command(alarm, 'door.hold_open', {}, doors, run);
    }
    if ((l.turnstiles ?? 'none') === 'free') {
      await this.command(alarm, 'turnstile.set_mode', { mode: 'free' }, this.buildingDevices(alarm, 'turnstile').map((d) => d.id), run);
    }
    // A resumed run repeats the console's cameras and notification only if the first run never got that far.
    const shows = !run.resumed || run.journal?.needed === null;
    if ((l.cameras ?? true) && shows) {
      const inBuilding = this.buildingDevices(alarm, 'camera');
      const inZone = alarm.zone ? inBuilding.filter((c) => c.zone === alarm.zone) : [];
      const cameras = (inZone.length ? inZone : inBuilding).map((c) => c.id);
      if (cameras.length) {
        this.d.repo.addTimeline(alarm.id, 'linkage.cameras', { ts: this.d.clock(), actor: LINKAGE_ACTOR, detail: { cameras } });
        this.emit({ alarmId: alarm.id, action: 'cameras.show', devices: cameras, cameras });
      }
    }
    for (const p of l.ptz ?? []) await this.command(alarm, 'camera.goto_preset', { preset: p.preset }, [p.camera], run);
    if (l.notify?.length && shows) {
      this.d.repo.addTimeline(alarm.id, 'notified', { ts: this.d.clock(), actor: LINKAGE_ACTOR, detail: { roles: l.notify } });
      this.emit({ alarmId: alarm.id, action: 'notify', devices: [alarm.device], roles: [...l.notify] });
    }
  }

  private async command(alarm: Alarm, action: string, params: Record<string, unknown>, devices: string[], run: Run): Promise<void> {
    const sent: string[] = [];
    const todo: Array<{ device: string; key: string }> = [];
    const mark = (key: string) => (run.retry ? { retry: run.retry.get(key)! } : run.resumed ? { resumed: true } : {});
    for (const device of devices) {
      const key = commandKey(device, action, params);
      run.needed.push(key);
      if (run.retry && !run.retry.has(key)) continue; // a timer retry sends only what is due
      if (run.resumed) {
        const j = run.journal;
        if (j?.done.includes(key)) {
          this.stopRetries(alarm.id, key);
          continue; // finished before
        }
        const inFlight = Object.values(j?.sent ?? {}).find((s) => s.key === key && this.d.clock() < s.at + this.d.commands.ttlMs + RESULT_GRACE_MS);
        if (inFlight) {
          // Never resent within the ttl of a command still unanswered (a retry is scheduled again if it fails).
          if (run.retry) continue;
          // The previous run's command may still be acted on (or answered late): look again once its ttl has passed.
          const at = inFlight.at + this.d.commands.ttlMs + RESULT_GRACE_MS;
          this.recheck.set(alarm.id, Math.max(this.recheck.get(alarm.id) ?? 0, at));
          continue;
        }
        const gw = this.d.devices.get(device)?.gateway;
        if (gw && !this.d.commands.isConnected(gw)) {
          // Resumed when its gateway subscribes; meanwhile the timer goes on (next step of the backoff).
          if (run.retry) this.scheduleRetry(alarm.id, key, action, device, `gateway ${gw} offline`);
          continue;
        }
      }
      const earlier = this.released.get(key);
      if (earlier && earlier !== alarm.id && this.d.repo.get(earlier)?.state !== 'resolved') {
        this.d.repo.addTimeline(alarm.id, 'linkage.command', { ts: this.d.clock(), actor: LINKAGE_ACTOR, detail: { action, device, skipped: `already sent for alarm ${earlier}`, ...mark(key) } });
        this.finished(alarm.id, key);
        continue;
      }
      // Claimed before the await, so a second detector's alarm in the same batch sees it.
      this.released.set(key, alarm.id);
      todo.push({ device, key });
    }
    await Promise.all(
      todo.map(async ({ device, key }) => {
        const now = this.d.clock();
        const how = mark(key);
        try {
          const c = await sendCommand(this.d.commands, ['admin'], device, action, params, now);
          const retry = run.retry?.get(key);
          this.awaiting.set(c.commandId, { alarmId: alarm.id, action, device, sentAt: now, key, ...(retry ? { retry } : {}) });
          this.update(alarm.id, (j) => {
            // Earlier commands of this key past their ttl are refused by the gateway as expired: no longer in flight
            // (a late result of one still lands on the timeline and finishes the key if ok).
            for (const [id, s] of Object.entries(j.sent)) if (s.key === key && now >= s.at + this.d.commands.ttlMs + RESULT_GRACE_MS) delete j.sent[id];
            j.sent[c.commandId] = { key, at: now };
          });
          if (retry) this.d.retried?.inc({ result: 'sent' });
          sent.push(device);
          run.sent++;
          this.d.repo.addTimeline(alarm.id, 'linkage.command', { ts: now, actor: LINKAGE_ACTOR, detail: { action, device, commandId: c.commandId, ...how } });
          this.d.audit.record(LINKAGE_ACTOR, 'linkage.command', device, { alarm: alarm.id, action, params, commandId: c.commandId, gateway: c.gateway, ...how }, now);
        } catch (err) {
          const error = (err as Error).message;
          // Not sent: the next alarm tries this device again.
          if (this.released.get(key) === alarm.id) this.released.delete(key);
          // Refused for good (no such device, wrong kind): finished with its error. Otherwise (gateway offline, broker
          // error) it stays pending and is resumed when the gateway subscribes again or the hub restarts.
          if (err instanceof HubError && FOR_GOOD.has(err.code)) this.finished(alarm.id, key);
          else {
            if (run.retry) this.d.retried?.inc({ result: 'not_sent' });
            // A gateway offline is resumed when it subscribes again; anything else (broker error) on the timer.
            if (!(err instanceof HubError && err.code === 'gateway_offline')) this.scheduleRetry(alarm.id, key, action, device, error);
          }
          this.d.repo.addTimeline(alarm.id, 'linkage.command', { ts: now, actor: LINKAGE_ACTOR, detail: { action, device, error, ...how } });
          this.d.audit.record(LINKAGE_ACTOR, 'linkage.command', device, { alarm: alarm.id, action, params, error, ...how }, now);
          this.d.log.warn({ alarm: alarm.id, device, action, error }, 'linkage command not sent');
        }
      }),
    );
    if (todo.length) this.emit({ alarmId: alarm.id, action, devices: sent.sort() });
  }

  private emit(m: LinkageMessage): void {
    this.d.bus.emit('linkage', m);
  }
}
