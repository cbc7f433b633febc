import Type, { type Static } from 'typebox';
import { AlarmSchema } from './alarms.ts';
import { AttendanceLiveSchema } from './attendance.ts';
import { MsEpoch, Nullable } from './common.ts';
import { HubEventSchema } from './events.ts';

/**
 * The live feed: socket.io at /socket.io (handshake `auth`: LiveAuthSchema), one socket.io event name per message.
 * Messages are pushed after the fact they describe is stored; docs/API.md, "Live feed".
 */

/**
 * How a client receives the feed, chosen in the socket.io handshake (`io(url, { auth: { token, feed } })`):
 * - `per-event` (the default, for scripts and tests): one `event` message per stored event, one `alarm` per change.
 * - `coalesced` (the console): routine events come as `events` batches at a bounded rate (at most `LIVE_BATCH_MAX`
 *   events every `LIVE_BATCH_MS`; the rest counted in `skipped`, never silently lost: the console offers a reload);
 *   repeated updates of one alarm within a batch window are merged into its latest state. Safety events (fire,
 *   intrusion, emergency, forced door, tamper), a new alarm's first message, linkage, device and gateway availability
 *   and attendance are sent at once, as `per-event` clients get them.
 */
export const LiveFeedModeSchema = Type.Union([Type.Literal('per-event'), Type.Literal('coalesced')]);
export type LiveFeedMode = Static<typeof LiveFeedModeSchema>;
export const LiveAuthSchema = Type.Object({
  /** The login token (POST /api/auth/login). */
  token: Type.String(),
  feed: Type.Optional(LiveFeedModeSchema),
});
export type LiveAuth = Static<typeof LiveAuthSchema>;
/** Coalesced feed: a batch of routine events is flushed every LIVE_BATCH_MS... */
export const LIVE_BATCH_MS = 250;
/** ...with at most LIVE_BATCH_MAX events (the newest; older ones in the window are counted in `skipped`). */
export const LIVE_BATCH_MAX = 200;

/** Coalesced feed: the routine events stored since the previous batch, oldest first. */
export const LiveEventsBatchSchema = Type.Object({
  events: Type.Array(HubEventSchema),
  /**
   * Routine events stored for this client since the previous batch but not in any batch (beyond LIVE_BATCH_MAX, or
   * held back while the client's connection was still busy). Read them over REST (GET /api/events).
   */
  skipped: Type.Integer({ minimum: 0 }),
});
export type LiveEventsBatch = Static<typeof LiveEventsBatchSchema>;

/**
 * The hub switched this connection to another feed mode. Today only: a `per-event` client that could not keep up
 * (more than LIVE_SLOW_QUEUED routine events waiting for its connection) is switched to `coalesced` for routine
 * events: from this message on it gets them as `events` batches (the waiting ones first; beyond LIVE_BATCH_MAX counted
 * in `skipped`, read them over REST), while safety events, alarms, linkage and availability keep coming one by one.
 */
export const LiveFeedSwitchSchema = Type.Object({
  mode: LiveFeedModeSchema,
  reason: Type.Literal('slow_client'),
  /** Routine events that were waiting for this connection when it was switched. */
  waiting: Type.Integer({ minimum: 0 }),
});
export type LiveFeedSwitch = Static<typeof LiveFeedSwitchSchema>;
/** Routine events a `per-event` connection may have waiting before it is switched to `coalesced` (LiveFeedSwitch). */
export const LIVE_SLOW_QUEUED = 5_000;
/**
 * Packets the hub may hold for one connection that does not read (priority messages are never dropped): beyond it
 * the hub closes the connection; the client reconnects and reloads over REST.
 */
export const LIVE_MAX_HELD = 10_000;

export const LiveDeviceSchema = Type.Object({ id: Type.String(), gateway: Type.String(), online: Type.Boolean(), lastSeen: Nullable(MsEpoch()) });
export const LiveGatewaySchema = Type.Object({ id: Type.String(), online: Type.Boolean(), lastSeen: Nullable(MsEpoch()), backlog: Nullable(Type.Integer()) });

/** What the hub did automatically for an alarm (alarms.linkage): released doors, popped cameras, notified roles. */
export const LinkageMessageSchema = Type.Object({
  alarmId: Type.String(),
  action: Type.String(),
  devices: Type.Array(Type.String()),
  cameras: Type.Optional(Type.Array(Type.String())),
  /** `notify`: the roles told about the alarm (linkage config, or the role an alarm was escalated to). */
  roles: Type.Optional(Type.Array(Type.String())),
  commandId: Type.Optional(Type.String()),
  /** The gateway released `devices` on its own (edge fail-safe); reported once the hub heard of it. */
  failsafe: Type.Optional(Type.Boolean()),
  ok: Type.Optional(Type.Boolean()),
  error: Type.Optional(Type.String()),
});
export type LinkageMessage = Static<typeof LinkageMessageSchema>;

/** socket.io event name -> payload schema. */
export const LIVE_MESSAGES = {
  /** One stored event (`per-event` clients: every event; `coalesced` clients: safety events only). */
  event: HubEventSchema,
  /** `coalesced` clients only: a batch of routine events. */
  events: LiveEventsBatchSchema,
  device: LiveDeviceSchema,
  gateway: LiveGatewaySchema,
  alarm: AlarmSchema,
  linkage: LinkageMessageSchema,
  /** Dorm attendance (curfew list, corrections, tonight's changes); only to users who may see its building. */
  attendance: AttendanceLiveSchema,
  /** The hub switched this connection's feed mode (a `per-event` client too slow for the flood). */
  feed: LiveFeedSwitchSchema,
} as const;

/** socket.io event name -> payload. */
export type LiveMessages = { [K in keyof typeof LIVE_MESSAGES]: Static<(typeof LIVE_MESSAGES)[K]> };
export type LiveChannel = keyof LiveMessages;
