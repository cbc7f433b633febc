import Type, { type Static } from 'typebox';
import { AlarmSchema } from './alarms.ts';
import { AttendanceLiveSchema } from './attendance.ts';
import { MsEpoch, Nullable } from './common.ts';
import { HubEventSchema } from './events.ts';

/**
 * The live feed: socket.io at /socket.io (auth: the bearer token), one socket.io event name per message.
 * Messages are pushed after the fact they describe is stored; docs/API.md, "Live feed".
 */

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
  event: HubEventSchema,
  device: LiveDeviceSchema,
  gateway: LiveGatewaySchema,
  alarm: AlarmSchema,
  linkage: LinkageMessageSchema,
  /** Dorm attendance (curfew list, corrections, tonight's changes); only to users who may see its building. */
  attendance: AttendanceLiveSchema,
} as const;

/** socket.io event name -> payload. */
export type LiveMessages = { [K in keyof typeof LIVE_MESSAGES]: Static<(typeof LIVE_MESSAGES)[K]> };
export type LiveChannel = keyof LiveMessages;
