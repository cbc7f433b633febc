import Type, { type Static, type TObject } from 'typebox';
import type { Logger } from 'pino';
import type { DeviceKind } from '@warden/contract';
import type { Rng } from './rng.ts';
import type { SimClock } from './sim-clock.ts';

/** One simulated device as a scenario or a test describes it. `type` is the edge driver name. */
export interface DeviceSpec {
  id: string;
  type: string;
  name?: string;
  building?: string;
  zone?: string;
  /** Device-type options, validated against the type's schema; missing ones take their defaults. */
  options?: Record<string, unknown>;
}

export interface Timer {
  cancel(): void;
}

/** What a device model may do. Timers and publishes go through it so stop() and dropOff() can reach them. */
export interface DeviceContext {
  readonly id: string;
  readonly rng: Rng;
  readonly clock: SimClock;
  readonly log: Logger;
  /** Connected to the field broker (not dropped off, not reconnecting). */
  readonly online: boolean;
  /** `{prefix}/{id}` plus suffix segments, e.g. topic('event') = 'acs/door-1/event'. */
  topic(...suffix: string[]): string;
  /** JSON-encodes objects; QoS 1 unless told. While dropped off, messages wait in the device's buffer. */
  publish(topic: string, payload: unknown, opts?: { qos?: 0 | 1; retain?: boolean }): void;
  /** Settles once every message published so far is handed to the connection: a device sending a lot at once goes no faster than that. */
  drain(): Promise<void>;
  /** Runs once after `seconds` of simulated time, whatever the connection state (the physical world goes on). */
  after(seconds: number, fn: () => void): Timer;
  /** Autonomous behaviour: every `seconds` of simulated time, skipped while offline. */
  every(seconds: number, fn: () => void): Timer;
  /** Autonomous behaviour: a Poisson process whose mean gap (simulated seconds) is re-read before each gap. */
  poisson(meanSeconds: () => number, fn: () => void): Timer;
  /** The common `dropOff` action from inside the model (a device that fails on its own schedule, e.g. a dorm night's failing point). */
  dropOff(): void;
  /** The common `comeBack` action from inside the model. */
  comeBack(): Promise<void>;
}

export type CommandOutcome = { ok: true } | { ok: false; error: string };

/** A command topic `{prefix}/{id}/{suffix}`; the reply goes to the same topic plus `/reply`. */
export interface CommandChannel {
  suffix: string;
  handle(msg: Record<string, unknown>): CommandOutcome;
  /** The reply in the device's native format, carrying the gateway's ref. */
  reply(ref: string, outcome: CommandOutcome): Record<string, unknown>;
}

export interface DeviceModel {
  state(): Record<string, unknown>;
  /** What the device reports each time it (re)connects, as real controllers do after boot. */
  onConnect?(): void;
  /** Starts autonomous behaviour; only called when the `behave` option is on. */
  behave?(): void;
  /** Triggerable actions; keys must match the type's `actions` catalogue. */
  actions: Record<string, (arg: unknown) => void | Promise<void>>;
  commands?: CommandChannel[];
}

export interface DeviceType<S extends TObject = TObject> {
  /** The edge driver that decodes this device, e.g. 'door-controller'. */
  readonly type: string;
  readonly kind: DeviceKind;
  /** First topic segment of the native protocol, e.g. 'acs'. */
  readonly prefix: string;
  readonly description: string;
  readonly options: S;
  /** Action name -> what it does; scenario timelines are checked against it before anything runs. */
  readonly actions: Readonly<Record<string, string>>;
  create(ctx: DeviceContext, options: Static<S>, spec: DeviceSpec): DeviceModel;
}

/** Options every device type has. */
export const commonOptions = {
  behave: Type.Boolean({
    default: true,
    description: 'autonomous behaviour; off: the device only reports, obeys commands and runs triggered actions',
  }),
};

/** Actions every device has, handled by the runtime rather than the model. */
export const COMMON_ACTIONS: Readonly<Record<string, string>> = {
  dropOff: 'disconnect abruptly (no DISCONNECT packet) so the broker publishes the last will; events wait in a buffer',
  comeBack: 'reconnect after dropOff, announce online and deliver the buffered events',
};

export function defineDevice<S extends TObject>(d: DeviceType<S>): DeviceType<S> {
  return d;
}

export type OptionsOf<D> = D extends DeviceType<infer S> ? Static<S> : never;

/** Native messages carry ISO-8601 `time`, epoch-ms `t` or epoch-s `ts`; always the real clock. */
export const isoNow = (): string => new Date().toISOString();
export const epochSeconds = (): number => Math.floor(Date.now() / 1000);

/** Accepts a number or a numeric string (CLI and YAML arguments), else the fallback. */
export function numberArg(arg: unknown, fallback: number, what: string): number {
  if (arg === undefined || arg === null || arg === '') return fallback;
  const n = typeof arg === 'number' ? arg : Number(arg);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${what} must be a non-negative number, got ${JSON.stringify(arg)}`);
  return n;
}

export function stringArg(arg: unknown, fallback: string): string {
  if (arg === undefined || arg === null || arg === '') return fallback;
  return String(arg);
}
