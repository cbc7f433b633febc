import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { CONTRACT_VERSION, newId, parseJson, type EventRecord, type UplinkRecord } from '@warden/contract';
import type { DeviceRuntime } from '../devices.ts';
import type { Emission } from '../driver.ts';
import type { FireFailsafeConfig } from './config.ts';

export interface FireFailsafeDeps {
  config: FireFailsafeConfig;
  devices: ReadonlyMap<string, DeviceRuntime>;
  hubConnected(): boolean;
  /** Runs a contract command exactly as if the hub had sent it (the command router's `handle`). */
  execute(payload: Buffer): void;
  /** Commits records for a device into the outbox. */
  emit(deviceId: string, emissions: Emission[]): void;
  registry: Registry;
  logger: Logger;
}

type Release = { action: 'door.hold_open'; params: Record<string, never> } | { action: 'turnstile.set_mode'; params: { mode: 'free' } };
const DOOR: Release = { action: 'door.hold_open', params: {} };
const TURNSTILE: Release = { action: 'turnstile.set_mode', params: { mode: 'free' } };
/**
 * The field broker reports a device online when it connects, a moment before the device has subscribed to
 * its command topic; a command sent at once could go nowhere.
 */
const BACK_GRACE_MS = 1000;

/**
 * The gateway's own fire linkage. Normally the hub raises the fire alarm and releases the doors; this
 * covers the case where it cannot: on a local `fire.alarm`, with the hub link down it releases the
 * configured doors (hold open) and turnstiles (free) at once; with the link up it waits `confirmMs` for
 * the hub's release command per device and releases the ones the hub did not reach. What it did is a
 * `linkage.failsafe` record in the outbox (followed by each command's `command.result`), so the hub
 * learns it when the link returns. A released device stays released until the hub sends `door.normal`
 * (or another turnstile mode): evacuation doors must not close again by themselves.
 */
export class FireFailsafe {
  /** Devices released (by us or by the hub) and not yet returned to normal. */
  private readonly released = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Detectors in alarm (fire.alarm seen, no fire.cleared yet). */
  private readonly burning = new Set<string>();
  /** Our own release commands awaiting their result: command id -> device. */
  private readonly issued = new Map<string, string>();
  private readonly actions: Counter<'reason'>;
  private stopped = false;

  constructor(private readonly d: FireFailsafeDeps) {
    this.actions = new Counter({
      name: 'warden_edge_failsafe_actions_total',
      help: 'Release commands the gateway issued on its own (fire fail-safe), by why the hub did not',
      labelNames: ['reason'],
      registers: [d.registry],
    });
  }

  /** The release targets, resolved once from config ('all' = every door / turnstile of this gateway). */
  private targets(): Array<{ device: string; release: Release }> {
    const pick = (list: 'all' | readonly string[], kind: 'door' | 'turnstile') =>
      list === 'all' ? [...this.d.devices.values()].filter((dev) => dev.info.kind === kind).map((dev) => dev.id) : list.filter((id) => this.d.devices.has(id));
    return [
      ...pick(this.d.config.doors, 'door').map((device) => ({ device, release: DOOR })),
      ...pick(this.d.config.turnstiles, 'turnstile').map((device) => ({ device, release: TURNSTILE })),
    ];
  }

  /** Committed records (from devices or the agent): a fire alarm from a detector starts the fail-safe. */
  onRecords(records: readonly UplinkRecord[]): void {
    if (!this.d.config.enabled || this.stopped) return;
    for (const r of records) {
      if (r.kind !== 'event') continue;
      if (r.type === 'command.result') this.onResult(r as UplinkRecord & EventRecord<'command.result'>);
      else if (r.type === 'fire.alarm' && this.d.devices.get(r.device)?.info.kind === 'fire_sensor') {
        this.burning.add(r.device);
        this.onFire(r.device);
      } else if (r.type === 'fire.cleared') this.burning.delete(r.device);
      else if (r.type === 'device.online') this.onDeviceBack(r.device);
    }
  }

  /** A release that failed (device offline, timeout) is not a release: it is tried again when the device is back, or on the next alarm. */
  private onResult({ data }: EventRecord<'command.result'>): void {
    const device = this.issued.get(data.command);
    if (device === undefined) return;
    this.issued.delete(data.command);
    if (!data.ok) this.released.delete(device);
  }

  private onFire(detector: string, only?: string): void {
    if (!this.d.hubConnected()) return this.release(detector, 'hub_down', only);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.release(detector, this.d.hubConnected() ? 'not_confirmed' : 'hub_down', only);
    }, this.d.config.confirmMs);
    this.timers.add(timer);
  }

  /**
   * A door or turnstile that was offline during the alarm (its release failed) is released as soon as it is
   * back, while a detector is still in alarm: the detector repeats its state, not the transition, so no new
   * fire.alarm would come to retry it.
   */
  private onDeviceBack(device: string): void {
    if (this.burning.size === 0 || this.released.has(device)) return;
    if (!this.targets().some((t) => t.device === device)) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const detector = [...this.burning][0];
      if (detector !== undefined && !this.released.has(device)) this.onFire(detector, device);
    }, BACK_GRACE_MS);
    this.timers.add(timer);
  }

  /**
   * A command from the hub, seen before the router runs it: a release means the hub's linkage reached
   * that device; a return to normal ends the hold, so a later fire alarm releases it again.
   */
  observeHubCommand(payload: Buffer): void {
    const parsed = parseJson(payload);
    if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return; // the router reports it
    const c = parsed.value as { device?: unknown; action?: unknown; params?: { mode?: unknown } };
    if (typeof c.device !== 'string') return;
    if (c.action === 'door.hold_open' || (c.action === 'turnstile.set_mode' && c.params?.mode === 'free')) this.released.add(c.device);
    else if (c.action === 'door.normal' || c.action === 'turnstile.set_mode') this.released.delete(c.device);
  }

  private release(detector: string, reason: 'hub_down' | 'not_confirmed', only?: string): void {
    if (this.stopped) return;
    const todo = this.targets().filter((t) => !this.released.has(t.device) && (only === undefined || t.device === only));
    if (todo.length === 0) return;
    const commands = todo.map((t) => ({ v: CONTRACT_VERSION, id: newId(), device: t.device, action: t.release.action, params: t.release.params, ts: Date.now() }));
    // The record goes first, so the hub reads why before it reads each command's result.
    this.d.emit(detector, [
      {
        kind: 'event',
        type: 'linkage.failsafe',
        data: { trigger: 'fire.alarm', reason, actions: commands.map((c) => ({ device: c.device, action: c.action, command: c.id })) },
      },
    ]);
    this.d.logger.warn({ detector, reason, devices: commands.map((c) => c.device) }, 'fire fail-safe: releasing doors and turnstiles from the gateway');
    for (const c of commands) {
      this.released.add(c.device);
      this.issued.set(c.id, c.device);
      this.actions.inc({ reason });
      this.d.execute(Buffer.from(JSON.stringify(c)));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
