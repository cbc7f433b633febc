import Type, { type Static } from 'typebox';
import { DEVICE_KINDS } from '../devices.ts';
import { MediumSchema } from '../primitives.ts';
import { MsEpoch, Nullable, type RouteDef } from './common.ts';

/** A registered device as the hub answers it (GET /api/devices) and pushes it. */
export const DeviceSchema = Type.Object({
  id: Type.String(),
  gateway: Type.String(),
  /** Always a contract device kind when it comes from this hub; a plain string so an older console survives a newer hub. */
  kind: Type.String({ description: `one of ${DEVICE_KINDS.join(', ')}` }),
  driver: Type.String(),
  name: Nullable(Type.String()),
  building: Nullable(Type.String()),
  zone: Nullable(Type.String()),
  location: Nullable(Type.String()),
  medium: Nullable(MediumSchema),
  online: Type.Boolean(),
  lastSeen: Nullable(MsEpoch()),
});
export type Device = Static<typeof DeviceSchema>;

export const DevicesQuerySchema = Type.Object(
  {
    gateway: Type.Optional(Type.String({ maxLength: 64 })),
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    building: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const DeviceCommandBodySchema = Type.Object(
  { action: Type.String({ minLength: 1, maxLength: 64 }), params: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  { additionalProperties: false },
);

export const DEVICE_ROUTES = {
  'GET /api/devices': { summary: 'Registered devices', query: DevicesQuerySchema, response: Type.Object({ devices: Type.Array(DeviceSchema) }) },
  'POST /api/devices/:id/commands': {
    summary: 'Send a command to a device; its result arrives as a command.result event',
    params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
    body: DeviceCommandBodySchema,
    status: 202,
    response: Type.Object({ commandId: Type.String() }),
  },
} as const satisfies Record<string, RouteDef>;
