import type { StoredEvent } from '../store/events.ts';
import type { DeviceView } from '../store/devices.ts';
import type { AlarmSettings } from './settings.ts';

import { ALARM_PRIORITIES, type Alarm as WireAlarm, type AlarmPriority, type AlarmTimelineEntry } from '@warden/contract';

export { ALARM_STATES, type AlarmState } from '@warden/contract';
export const PRIORITIES = ALARM_PRIORITIES;
export type Priority = AlarmPriority;

/** Every alarm type, its default priority and whether it latches (docs/API.md, "Alarms"). */
export const ALARM_TYPES = {
  'door.forced': { priority: 'high', latching: false, title: 'Door forced open' },
  'door.held_open': { priority: 'medium', latching: false, title: 'Door held open' },
  'turnstile.tailgating': { priority: 'medium', latching: false, title: 'Turnstile passage without a grant' },
  'turnstile.antipassback': { priority: 'low', latching: false, title: 'Anti-passback: second entry without an exit' },
  // Life-safety and intrusion alarms latch: only a person resets them (GB 50394).
  'fire.alarm': { priority: 'critical', latching: true, title: 'Fire alarm' },
  'fire.trouble': { priority: 'high', latching: false, title: 'Fire system fault' },
  'emergency.call': { priority: 'critical', latching: true, title: 'Emergency call' },
  'intrusion.alarm': { priority: 'critical', latching: true, title: 'Intrusion' },
  'intrusion.tamper': { priority: 'high', latching: true, title: 'Intrusion system tamper' },
  'camera.tamper': { priority: 'high', latching: true, title: 'Camera tampered with' },
  // A watch-listed person recognised at a face point (rules/face-watchlist.ts).
  'face.watchlist': { priority: 'high', latching: false, title: 'Watch-listed person recognised' },
  'device.offline': { priority: 'medium', latching: false, title: 'Device offline' },
  'device.trouble': { priority: 'high', latching: false, title: 'Life-safety device silent' },
  'gateway.offline': { priority: 'high', latching: false, title: 'Building gateway lost' },
  'access.after_hours': { priority: 'medium', latching: false, title: 'Access outside the door schedule' },
  'access.repeated_denied': { priority: 'high', latching: false, title: 'Repeated denied credentials' },
  // A console account locked after repeated failed logins (rules/login-lockout.ts, raised by the login route).
  'auth.account_locked': { priority: 'high', latching: false, title: 'Console account locked after failed logins' },
  // The hub's data dir below its free-space threshold (rules/disk-low.ts, measured by hub/src/lifecycle).
  'hub.disk_low': { priority: 'high', latching: false, title: 'Hub disk almost full' },
  // Energy anomalies found by the hub's detector on each meter's hourly use (hub/src/energy/detection, watch.ts).
  'energy.spike': { priority: 'low', latching: false, title: 'Energy use far above usual' },
  'energy.drop': { priority: 'low', latching: false, title: 'Energy use far below usual' },
  'energy.dropout': { priority: 'medium', latching: false, title: 'Meter reads almost nothing' },
  'energy.flat': { priority: 'low', latching: false, title: 'Meter reading frozen' },
  'energy.missing': { priority: 'low', latching: false, title: 'Meter readings missing' },
  'energy.night_base_load': { priority: 'low', latching: false, title: 'High night base load' },
  'energy.leak': { priority: 'medium', latching: false, title: 'Water leak suspected' },
} as const satisfies Record<string, { priority: Priority; latching: boolean; title: string }>;

export type AlarmType = keyof typeof ALARM_TYPES;
export const ALARM_TYPE_NAMES = Object.keys(ALARM_TYPES) as AlarmType[];

export type Alarm = WireAlarm<AlarmType>;

export { TIMELINE_KINDS, type TimelineKind } from '@warden/contract';
/** One line of an alarm's timeline (the wire shape, contract/src/api/alarms.ts). */
export type TimelineEntry = AlarmTimelineEntry;

/** A rule's finding: this alarm condition is present (raise) or gone (clear). */
export interface Finding {
  type: AlarmType;
  device: string;
  /** Credential rules key their alarms by credential as well as by device. */
  credential?: string | null;
  /** When the device is not in the registry (e.g. the gateway itself). */
  gateway?: string;
  ts: number;
  event?: StoredEvent;
  detail?: Record<string, unknown>;
}

/**
 * A rule's state that must survive a hub restart (a door opened and not yet closed, a device in its offline
 * debounce): a Map whose writes the engine commits with the alarms of the same batch, read back at start.
 * Values must be JSON.
 */
export interface DurableMap<T> extends Iterable<[string, T]> {
  get(key: string): T | undefined;
  has(key: string): boolean;
  set(key: string, value: T): void;
  delete(key: string): void;
  readonly size: number;
}

export interface RuleContext {
  /** Resolved `alarms` settings of the hub config. */
  readonly settings: AlarmSettings;
  /** This rule's durable map called `name` (one rule may keep several). */
  state<T>(name: string): DurableMap<T>;
  device(id: string): DeviceView | null;
  raise(f: Finding): void;
  clear(f: Finding): void;
}

export interface RuleInstance {
  onEvent(e: StoredEvent): void;
  /** Called about once a second with the hub's clock, for rules that wait for something not to happen. */
  tick?(now: number): void;
}

/** One rule type = one file in rules/, registered in rules/index.ts. */
export interface AlarmRule {
  readonly id: string;
  /** The alarm types it raises. */
  readonly types: readonly AlarmType[];
  /** The event types it reads. */
  readonly events: readonly string[];
  create(ctx: RuleContext): RuleInstance;
}
