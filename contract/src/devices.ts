import Type, { type Static } from 'typebox';
import { DeviceIdSchema, MediumSchema, literalUnion } from './primitives.ts';

/** What a device is, independent of vendor; drivers map vendor models onto these kinds. */
export const DEVICE_KINDS = [
  'door',
  'turnstile',
  'fire_sensor',
  'emergency_post',
  'intrusion_zone',
  'meter',
  'actuator',
  'camera',
  'face_terminal',
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const DeviceKindSchema = literalUnion(DEVICE_KINDS);

export const DeviceInfoSchema = Type.Object(
  {
    id: DeviceIdSchema,
    kind: DeviceKindSchema,
    driver: Type.String({ minLength: 1, maxLength: 64 }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    building: Type.Optional(Type.String({ maxLength: 64 })),
    zone: Type.Optional(Type.String({ maxLength: 64 })),
    location: Type.Optional(Type.String({ maxLength: 200 })),
    /** Meters only: what is measured. */
    medium: Type.Optional(MediumSchema),
  },
  { additionalProperties: false },
);
export type DeviceInfo = Static<typeof DeviceInfoSchema>;
