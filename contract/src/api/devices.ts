import Type, { type Static } from 'typebox';
import { DEVICE_KINDS } from '../devices.ts';
import { MediumSchema, literalUnion } from '../primitives.ts';
import { MsEpoch, Nullable, type RouteDef } from './common.ts';

/** A registered device as the hub answers it (GET /api/devices) and pushes it. */
/**
 * adopted: registered by the hub (config or an admin); proposed: only listed by a gateway's inventory, waiting for
 * adoption; rejected: a proposal an admin refused (its records stay refused and its gateway's inventories do not
 * propose it again until an admin un-rejects or adopts it).
 */
export const DeviceStatusSchema = Type.Union([Type.Literal('adopted'), Type.Literal('proposed'), Type.Literal('rejected')]);
export type DeviceStatus = Static<typeof DeviceStatusSchema>;

/** Who rejected a proposed device, when and why (status 'rejected' only). */
export const DeviceRejectionSchema = Type.Object({ reason: Type.String(), by: Type.String(), at: MsEpoch() });
export type DeviceRejection = Static<typeof DeviceRejectionSchema>;

export const DeviceSchema = Type.Object({
  id: Type.String(),
  /** Absent from hubs before issue 9's registry. */
  status: Type.Optional(DeviceStatusSchema),
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
  /** Present when status is 'rejected'. */
  rejection: Type.Optional(DeviceRejectionSchema),
});
export type Device = Static<typeof DeviceSchema>;

export const DevicesQuerySchema = Type.Object(
  {
    gateway: Type.Optional(Type.String({ maxLength: 64 })),
    kind: Type.Optional(Type.String({ maxLength: 64 })),
    building: Type.Optional(Type.String({ maxLength: 64 })),
    /** Without a status: adopted and proposed devices; rejected ones only with status=rejected. */
    status: Type.Optional(DeviceStatusSchema),
  },
  { additionalProperties: false },
);

/** What the admin says a proposed (or adopted) device is: the hub's word from then on, not the inventory's. */
export const DeviceAdoptBodySchema = Type.Object(
  {
    kind: literalUnion(DEVICE_KINDS),
    building: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type DeviceAdoptBody = Static<typeof DeviceAdoptBodySchema>;

/** Why the admin refuses a proposed device: kept with it, shown in the console and written to the audit trail. */
export const DeviceRejectBodySchema = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false });
export type DeviceRejectBody = Static<typeof DeviceRejectBodySchema>;

export const DeviceCommandBodySchema = Type.Object(
  { action: Type.String({ minLength: 1, maxLength: 64 }), params: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  { additionalProperties: false },
);

export const DEVICE_ROUTES = {
  'GET /api/devices': { summary: 'Registered devices', query: DevicesQuerySchema, response: Type.Object({ devices: Type.Array(DeviceSchema) }) },
  'POST /api/devices/:id/adopt': {
    summary: "Adopt a device a gateway's inventory proposed (or re-register one): kind, building and zone are set by the admin, audited",
    params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
    body: DeviceAdoptBodySchema,
    response: Type.Object({ device: DeviceSchema }),
  },
  'POST /api/devices/:id/reject': {
    summary:
      "Reject a device a gateway's inventory proposed, with a reason (audited): its records stay refused and its gateway's inventories do not propose it again until an admin un-rejects (or adopts) it; 409 when it is adopted or already rejected",
    params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
    body: DeviceRejectBodySchema,
    response: Type.Object({ device: DeviceSchema }),
  },
  'POST /api/devices/:id/unreject': {
    summary: 'Undo a rejection: the device is a proposal again, waiting for adoption (audited); 409 when it is not rejected',
    params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
    response: Type.Object({ device: DeviceSchema }),
  },
  'POST /api/devices/:id/commands': {
    summary: 'Send a command to a device; its result arrives as a command.result event',
    params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
    body: DeviceCommandBodySchema,
    status: 202,
    response: Type.Object({ commandId: Type.String() }),
  },
} as const satisfies Record<string, RouteDef>;
