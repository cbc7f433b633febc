import Type, { type Static, type TLiteral, type TSchema, type TUnion } from 'typebox';
import { literalUnion } from '@warden/contract';
import type { CommandAction, CommandParams, DeviceKind, EventData, EventType, RejectReason } from '@warden/contract';

/**
 * What a driver produces from one native message: contract events and telemetry without the
 * gateway-assigned parts (id, seq, device). `ts` is the source time in ms; absent means "now at the gateway".
 */
export type Emission =
  | { [T in EventType]: { kind: 'event'; type: T; data: EventData<T>; ts?: number | undefined } }[EventType]
  | { kind: 'telemetry'; metrics: Record<string, number>; ts?: number | undefined };

/** A native message the gateway sends to a device on the field broker. */
export interface NativeMessage {
  topic: string;
  payload: Record<string, unknown>;
}

/** A device's answer to a command, matched to the command by `ref` (the command id). */
export interface CommandReply {
  ref: string;
  ok: boolean;
  error?: string | undefined;
}

/** A refusal of a native payload that passed its schema but still cannot be turned into records. */
export interface Rejection {
  rejected: RejectReason;
  detail: string;
}

export function reject(reason: RejectReason, detail: string): Rejection {
  return { rejected: reason, detail };
}

export function isRejection(v: unknown): v is Rejection {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'rejected' in v;
}

/** Everything a driver may look at while decoding: the device, its validated options, its state and the gateway clock. */
export interface DeviceContext<O = Record<string, unknown>, S = undefined> {
  id: string;
  options: O;
  /** Per-device state owned by the agent; drivers mutate it (e.g. last alarm state, for transitions). */
  state: S;
  now: number;
}

export interface CommandContext<O = Record<string, unknown>> {
  id: string;
  options: O;
  /** Goes into the native command so the device's reply can be matched; it is the contract command id. */
  ref: string;
}

export interface Uplink<C = DeviceContext> {
  /** The native payload's schema; the agent checks it before decode, so decode sees well-formed input. */
  schema: TSchema;
  decode(payload: never, ctx: C): Emission[] | Rejection;
}

export interface ReplyDecoder {
  schema: TSchema;
  reply(payload: never): CommandReply;
}

export type CommandEncoders<O> = { [A in CommandAction]?: (params: CommandParams<A>, ctx: CommandContext<O>) => NativeMessage };

/**
 * A device type, declared as data like a zigbee2mqtt converter. Topics are patterns in which `{id}`
 * stands for the device id; by the field protocol, the id is always the second topic segment.
 */
export interface Driver<O = Record<string, unknown>, S = undefined> {
  name: string;
  kind: DeviceKind;
  description: string;
  /**
   * How the gateway reaches devices of this type: the name of a transport in src/transports/
   * (`field-mqtt`: the device connects to the embedded field broker; `modbus-tcp`: the agent polls it).
   * The agent starts each transport for the devices whose driver names it and has no per-driver cases.
   */
  transport: string;
  /**
   * Schema of the device's `options` in the gateway config, with defaults; checked at config load.
   * A transport's per-device connection options (e.g. Modbus host and unit id) are part of it.
   */
  options: TSchema;
  /** Fresh per-device state; called once per device when the agent starts. */
  initialState(): S;
  /** Native messages from the device, by topic pattern (transports that deliver native messages). */
  uplinks: Record<string, Uplink<DeviceContext<O, S>>>;
  /** Reply topics of native commands. */
  replies: Record<string, ReplyDecoder>;
  commands: CommandEncoders<O>;
}

/** What a driver file declares; the parts a device type does not have may be left out. */
export type DriverSpec<O, S> = Omit<Driver<O, S>, 'initialState' | 'uplinks' | 'replies' | 'commands'> &
  Partial<Pick<Driver<O, S>, 'initialState' | 'uplinks' | 'replies' | 'commands'>>;

// Erased form for the registry; each driver file keeps its precise types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDriver = Driver<any, any>;

export function defineDriver<O, S = undefined>(spec: DriverSpec<O, S>): Driver<O, S> {
  const d: Driver<O, S> = {
    initialState: () => undefined as S,
    uplinks: {},
    replies: {},
    commands: {},
    ...spec,
  };
  for (const pattern of [...Object.keys(d.uplinks), ...Object.keys(d.replies)]) {
    if (pattern.split('/')[1] !== '{id}') throw new Error(`driver ${d.name}: topic ${pattern} must have {id} as its second segment`);
  }
  return Object.freeze(d);
}

/** Typed uplink: decode receives the payload type derived from its schema. */
export function uplink<Sch extends TSchema, C = DeviceContext>(
  schema: Sch,
  decode: (payload: Static<Sch>, ctx: C) => Emission[] | Rejection,
): Uplink<C> {
  return { schema, decode: decode as Uplink<C>['decode'] };
}

export function replyDecoder<Sch extends TSchema>(schema: Sch, reply: (payload: Static<Sch>) => CommandReply): ReplyDecoder {
  return { schema, reply: reply as ReplyDecoder['reply'] };
}

/** A string enum as a union of literals, so the static type is the literal union. */
export const oneOf = literalUnion;

export function topicFor(pattern: string, id: string): string {
  return pattern.replace('{id}', id);
}

/** Thrown by the time helpers for a time field that cannot be read; the agent turns it into a schema_invalid rejection. */
export class NativeInputError extends Error {}

/** `time` fields: ISO-8601 strings. */
export function isoTime(value: string | undefined, field = 'time'): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new NativeInputError(`${field}: ${JSON.stringify(value)} is not an ISO-8601 time`);
  return ms;
}

/** `t` fields: epoch milliseconds. */
export function epochMs(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value);
}

/** `ts` fields: epoch seconds. */
export function epochSeconds(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 1000);
}
