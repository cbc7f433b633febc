/**
 * Capability builders for drivers, in the spirit of zigbee-herdsman-converters' modern extends: a
 * driver file is data composed from these pieces instead of hand-written repeats of the same shapes.
 *
 * - options: `noOptions`, `unlockSecondsOption`
 * - emissions: `event`, `telemetry`
 * - command replies: `okReply` (`{ref, ok, err}`), `resultReply` (`{ref, result: OK|ERROR, msg}`)
 * - commands: `command` (topic pattern + payload; adds the `ref`), `lockControl` (door.unlock / door.lock)
 * - state transitions into events: `transitions` with `flag` and `changedTo`, for devices that repeat
 *   their whole state (a heartbeat) where only changes are news
 */
import Type, { type Static } from 'typebox';
import type { CommandAction, CommandParams, EventData, EventType } from '@warden/contract';
import { oneOf, replyDecoder, topicFor, type CommandContext, type CommandEncoders, type Emission, type NativeMessage, type ReplyDecoder } from './driver.ts';

// ---------------------------------------------------------------- options

/** A device type without options: `{}` in the config, anything else is an error. */
export const noOptions = Type.Object({}, { additionalProperties: false });
export type NoOptions = Static<typeof noOptions>;

/** `unlockSeconds`: release time of a door.unlock command that does not give one (1-3600 s, default 5). */
export const unlockSecondsOption = (description = 'release time for a door.unlock command that does not give one') =>
  Type.Integer({ minimum: 1, maximum: 3600, default: 5, description });

// ---------------------------------------------------------------- emissions

/** A contract event; `data` is checked against the event type at compile time. */
export function event<T extends EventType>(type: T, data: EventData<T>, ts?: number): Emission {
  return { kind: 'event', type, data, ts } as Emission;
}

export function telemetry(metrics: Record<string, number>, ts?: number): Emission {
  return { kind: 'telemetry', metrics, ts };
}

// ---------------------------------------------------------------- command replies

const OkReply = Type.Object({ ref: Type.String({ minLength: 1 }), ok: Type.Boolean(), err: Type.Optional(Type.String()) });
const ResultReply = Type.Object({ ref: Type.String({ minLength: 1 }), result: oneOf(['OK', 'ERROR']), msg: Type.Optional(Type.String()) });

/** Reply `{"ref","ok":true|false,"err":"..."}`; `fallback` is the error when a refusal gives none. */
export function okReply(fallback: string): ReplyDecoder {
  return replyDecoder(OkReply, (r) => ({ ref: r.ref, ok: r.ok, error: r.ok ? undefined : r.err || fallback }));
}

/** Reply `{"ref","result":"OK"|"ERROR","msg":"..."}`. */
export function resultReply(fallback: string): ReplyDecoder {
  return replyDecoder(ResultReply, (r) => ({ ref: r.ref, ok: r.result === 'OK', error: r.result === 'OK' ? undefined : r.msg || fallback }));
}

// ---------------------------------------------------------------- commands

type Encoder<A extends CommandAction, O> = (params: CommandParams<A>, ctx: CommandContext<O>) => NativeMessage;

/**
 * A native command on `topic` (a pattern with `{id}`): the payload built from the contract command's
 * params and the device options, plus the `ref` the device echoes in its reply.
 */
export function command<A extends CommandAction, O = unknown>(
  topic: string,
  payload: (params: CommandParams<A>, ctx: CommandContext<O>) => Record<string, unknown>,
): Encoder<A, O> {
  return (params, ctx) => ({ topic: topicFor(topic, ctx.id), payload: { ...payload(params, ctx), ref: ctx.ref } });
}

/**
 * A lock output: `door.unlock` → `{"op":"UNLOCK","seconds":n}` (the command's seconds, else the device's
 * `unlockSeconds` option) and `door.lock` → `{"op":"LOCK"}` on `topic`.
 */
export function lockControl<O extends { unlockSeconds: number }>(topic: string): CommandEncoders<O> {
  return {
    'door.unlock': command<'door.unlock', O>(topic, (p, c) => ({ op: 'UNLOCK', seconds: p.seconds ?? c.options.unlockSeconds })),
    'door.lock': command<'door.lock', O>(topic, () => ({ op: 'LOCK' })),
  };
}

// ---------------------------------------------------------------- state transitions

/** One watched value of a device that reports its whole state; `changed` gives the events of a change. */
export interface Watch<M, V> {
  read(message: M): V;
  /** `prev` is undefined for the first report after the agent started. */
  changed(prev: V | undefined, next: V, message: M, ts: number | undefined): Emission[];
}

/**
 * A boolean condition (alarm, tamper, motion): `raised` when it becomes true, including a first report
 * of true after the agent starts (an alarm must never be missed because the agent restarted during it);
 * `cleared` when a known true becomes false. A first report of false is not news.
 */
export function flag<M>(
  read: (message: M) => boolean,
  on: { raised?: (message: M, ts: number | undefined) => Emission; cleared?: (message: M, ts: number | undefined) => Emission },
): Watch<M, boolean> {
  return {
    read,
    changed: (prev, next, m, ts) => {
      if (next && prev !== true && on.raised) return [on.raised(m, ts)];
      if (!next && prev === true && on.cleared) return [on.cleared(m, ts)];
      return [];
    },
  };
}

/** A value that is news when it changes to something other than null (a fault code): one event per new value. */
export function changedTo<M, V>(read: (message: M) => V | null, to: (value: V, message: M, ts: number | undefined) => Emission): Watch<M, V | null> {
  return { read, changed: (prev, next, m, ts) => (next !== null && next !== prev ? [to(next, m, ts)] : []) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Watches<M> = Record<string, Watch<M, any>>;
export type TransitionState<W> = { [K in keyof W]: W[K] extends Watch<never, infer V> ? V | undefined : never };

/**
 * Turns repeated full-state reports into events on change. The remembered values are the device's
 * driver state (`initialState`); `events` compares a message with them, in the order the watches are
 * declared, and remembers the new values.
 */
export function transitions<M, W extends Watches<M>>(watches: W) {
  const keys = Object.keys(watches) as Array<keyof W & string>;
  return {
    initialState: (): TransitionState<W> => Object.fromEntries(keys.map((k) => [k, undefined])) as TransitionState<W>,
    events(message: M, state: TransitionState<W>, ts: number | undefined): Emission[] {
      const out: Emission[] = [];
      const remembered = state as Record<string, unknown>;
      for (const k of keys) {
        const next = watches[k]!.read(message);
        out.push(...watches[k]!.changed(remembered[k], next, message, ts));
        remembered[k] = next;
      }
      return out;
    },
  };
}
