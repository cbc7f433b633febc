import Type, { type Static } from 'typebox';

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

export const DeviceKindSchema = Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)));

export const DeviceInfoSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,127}$' }),
    kind: DeviceKindSchema,
    driver: Type.String({ minLength: 1, maxLength: 64 }),
    name: Type.Optional(Type.String({ maxLength: 200 })),
    building: Type.Optional(Type.String({ maxLength: 64 })),
    zone: Type.Optional(Type.String({ maxLength: 64 })),
    location: Type.Optional(Type.String({ maxLength: 200 })),
    /** Meters only: what is measured. */
    medium: Type.Optional(Type.Union([Type.Literal('power'), Type.Literal('water'), Type.Literal('gas')])),
  },
  { additionalProperties: false },
);
export type DeviceInfo = Static<typeof DeviceInfoSchema>;
