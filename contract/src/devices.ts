import Type, { type Static, type TLiteral, type TUnion } from 'typebox';

/** A string enum as a union of literals whose static type is the literal union (a plain map loses it). */
export function literalUnion<const T extends readonly string[]>(values: T): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(values.map((v) => Type.Literal(v))) as never;
}

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
