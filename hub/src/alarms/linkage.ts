import type { Logger } from 'pino';
import type { LinkageMessage } from '@warden/contract';
import { sendCommand, type CommandDeps } from '../commands.ts';
import type { AuditLog } from '../audit.ts';
import type { HubBus } from '../live/bus.ts';
import type { DeviceRepo, DeviceView } from '../store/devices.ts';
import type { StoredEvent } from '../store/events.ts';
import type { AlarmSettings, LinkageConfig } from './settings.ts';
import type { AlarmRepo } from './store.ts';
import { ALARM_TYPES, type Alarm, type AlarmType } from './types.ts';

export const LINKAGE_ACTOR = 'system:linkage';

/** How long a sent command's result is awaited for the timeline (well past any command ttl). */
const RESULT_WAIT_MS = 10 * 60_000;

/** The live `linkage` message: its shape is the contract's (contract/src/api/live.ts). */
export type { LinkageMessage } from '@warden/contract';

/**
 * Automatic reactions to a new alarm (alarms.linkage): release evacuation doors, free turnstiles, pop cameras,
 * notify. Commands go the same way as an operator's (contract-validated, to the device's gateway) with admin
 * rights; every one is audited as system:linkage and its command.result is written to the alarm's timeline.
 */
export class Linkage {
  private readonly awaiting = new Map<string, { alarmId: string; action: string; device: string; sentAt: number }>();
  /** device + action + params -> the open alarm it was sent for: a second detector in the same fire does not resend. */
  private readonly released = new Map<string, string>();
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
    },
  ) {}

  /** Runs every linkage entry matching the alarm; resolves when the commands are handed to the broker. */
  async onRaised(alarm: Alarm): Promise<void> {
    const entries = this.d.settings.linkageFor(alarm.type, alarm.building, alarm.zone);
    for (const l of entries) {
      try {
        await this.run(alarm, l);
      } catch (err) {
        this.d.log.error({ err, alarm: alarm.id }, 'alarm linkage failed');
      }
    }
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
    const error = typeof e.data.error === 'string' ? e.data.error : undefined;
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

  private buildingDevices(alarm: Alarm, kind: string): DeviceView[] {
    return alarm.building ? this.d.devices.list({ building: alarm.building, kind }) : [];
  }

  private async run(alarm: Alarm, l: LinkageConfig): Promise<void> {
    const hold = l.holdOpen ?? 'none';
    if (hold !== 'none') {
      let doors: string[];
      if (Array.isArray(hold)) doors = hold;
      else {
        const routes = hold === 'evacuation' && alarm.building ? this.d.settings.raw.evacuationRoutes[alarm.building] : undefined;
        doors = routes ?? this.buildingDevices(alarm, 'door').map((d) => d.id);
      }
      await this.command(alarm, 'door.hold_open', {}, doors);
    }
    if ((l.turnstiles ?? 'none') === 'free') {
      await this.command(alarm, 'turnstile.set_mode', { mode: 'free' }, this.buildingDevices(alarm, 'turnstile').map((d) => d.id));
    }
    if (l.cameras ?? true) {
      const inBuilding = this.buildingDevices(alarm, 'camera');
      const inZone = alarm.zone ? inBuilding.filter((c) => c.zone === alarm.zone) : [];
      const cameras = (inZone.length ? inZone : inBuilding).map((c) => c.id);
      if (cameras.length) {
        this.d.repo.addTimeline(alarm.id, 'linkage.cameras', { ts: this.d.clock(), actor: LINKAGE_ACTOR, detail: { cameras } });
        this.emit({ alarmId: alarm.id, action: 'cameras.show', devices: cameras, cameras });
      }
    }
    for (const p of l.ptz ?? []) await this.command(alarm, 'camera.goto_preset', { preset: p.preset }, [p.camera]);
    if (l.notify?.length) {
      this.d.repo.addTimeline(alarm.id, 'notified', { ts: this.d.clock(), actor: LINKAGE_ACTOR, detail: { roles: l.notify } });
      this.emit({ alarmId: alarm.id, action: 'notify', devices: [alarm.device], roles: [...l.notify] });
    }
  }

  private async command(alarm: Alarm, action: string, params: Record<string, unknown>, devices: string[]): Promise<void> {
    const sent: string[] = [];
    const todo: string[] = [];
    for (const device of devices) {
      const key = `${device}|${action}|${JSON.stringify(params)}`;
      const earlier = this.released.get(key);
      if (earlier && earlier !== alarm.id && this.d.repo.get(earlier)?.state !== 'resolved') {
        this.d.repo.addTimeline(alarm.id, 'linkage.command', { ts: this.d.clock(), actor: LINKAGE_ACTOR, detail: { action, device, skipped: `already sent for alarm ${earlier}` } });
        continue;
      }
      // Claimed before the await, so a second detector's alarm in the same batch sees it.
      this.released.set(key, alarm.id);
      todo.push(device);
    }
    await Promise.all(
      todo.map(async (device) => {
        const now = this.d.clock();
        try {
          const c = await sendCommand(this.d.commands, ['admin'], device, action, params, now);
          this.awaiting.set(c.commandId, { alarmId: alarm.id, action, device, sentAt: now });
          sent.push(device);
          this.d.repo.addTimeline(alarm.id, 'linkage.command', { ts: now, actor: LINKAGE_ACTOR, detail: { action, device, commandId: c.commandId } });
          this.d.audit.record(LINKAGE_ACTOR, 'linkage.command', device, { alarm: alarm.id, action, params, commandId: c.commandId, gateway: c.gateway }, now);
        } catch (err) {
          const error = (err as Error).message;
          // Not sent: the next alarm tries this device again.
          const key = `${device}|${action}|${JSON.stringify(params)}`;
          if (this.released.get(key) === alarm.id) this.released.delete(key);
          this.d.repo.addTimeline(alarm.id, 'linkage.command', { ts: now, actor: LINKAGE_ACTOR, detail: { action, device, error } });
          this.d.audit.record(LINKAGE_ACTOR, 'linkage.command', device, { alarm: alarm.id, action, params, error }, now);
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
