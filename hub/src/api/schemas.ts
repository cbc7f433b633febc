import Type from 'typebox';
import { DEVICE_KINDS } from '@warden/contract';
import { ROLES } from '../config.ts';

/** Response and request shapes of the REST API (docs/API.md); the same objects validate, serialize and document. */

const Nullable = <T extends Type.TSchema>(s: T) => Type.Union([s, Type.Null()]);
export const MsEpoch = (description = 'milliseconds since the Unix epoch') => Type.Integer({ minimum: 0, description });

export const ErrorSchema = Type.Object(
  { error: Type.Object({ code: Type.String({ description: 'snake_case, stable' }), message: Type.String() }) },
  { $id: 'Error', description: 'every failure answer' },
);

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('security'), Type.Literal('dorm'), Type.Literal('facilities')]);
void ROLES;

export const UserSchema = Type.Object({ username: Type.String(), displayName: Type.String(), roles: Type.Array(RoleSchema) });

export const GatewaySchema = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String()),
  online: Type.Boolean(),
  lastSeen: Nullable(MsEpoch()),
  backlog: Nullable(Type.Integer()),
  agentVersion: Nullable(Type.String()),
});

export const DeviceSchema = Type.Object({
  id: Type.String(),
  gateway: Type.String(),
  kind: Type.String({ description: `one of ${DEVICE_KINDS.join(', ')}` }),
  driver: Type.String(),
  name: Nullable(Type.String()),
  building: Nullable(Type.String()),
  zone: Nullable(Type.String()),
  location: Nullable(Type.String()),
  medium: Nullable(Type.String()),
  online: Type.Boolean(),
  lastSeen: Nullable(MsEpoch()),
});

export const EventSchema = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  gateway: Type.String(),
  device: Type.String(),
  type: Type.String(),
  ts: Type.Integer({ description: 'source time, ms epoch' }),
  receivedAt: Type.Integer({ description: 'when the hub stored it, ms epoch' }),
  data: Type.Record(Type.String(), Type.Unknown()),
});

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  ts: MsEpoch(),
  actor: Type.String(),
  action: Type.String(),
  target: Nullable(Type.String()),
  detail: Type.Record(Type.String(), Type.Unknown()),
});

/** Standard failure answers, added to every route's response schema. */
export const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, ErrorSchema]));
