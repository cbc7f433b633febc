import Type, { type Static, type TLiteral, type TUnion } from 'typebox';

/**
 * The small shared pieces of every wire shape, defined once: ids, timestamps, media, roles.
 * MQTT payloads (records.ts, commands.ts, devices.ts), REST and live shapes (api/) and the hub's and
 * edge's configs use these instead of repeating a pattern or a list.
 */

/** A string enum as a union of literals whose static type is the literal union (a plain map loses it). */
export function literalUnion<const T extends readonly string[]>(values: T, options?: Record<string, unknown>): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as never;
}

/** Device ids: lower-case letters, digits, `_ . -`, at most 128 characters. */
export const DEVICE_ID_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,127}$';
export const DeviceIdSchema = Type.String({ pattern: DEVICE_ID_PATTERN });

/** Gateway ids: also the MQTT topic segment and the MQTT user name, so no dots. */
export const GATEWAY_ID_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
export const GatewayIdSchema = Type.String({ pattern: GATEWAY_ID_PATTERN });

/** Bounds of a source timestamp (ms epoch): 2000-01-01 .. 2100-01-01 UTC. Anything outside is a broken clock. */
export const MIN_TS = 946_684_800_000;
export const MAX_TS = 4_102_444_800_000;
export const TimestampSchema = Type.Integer({ minimum: MIN_TS, maximum: MAX_TS });

/** What a meter measures. */
export const MEDIA = ['power', 'water', 'gas'] as const;
export type Medium = (typeof MEDIA)[number];
export const MediumSchema = literalUnion(MEDIA, { description: 'power | water | gas' });

/**
 * The roles of a console user (hub config `users[].roles`); admin may do everything. A security supervisor
 * (`supervisor`) may do what security may, plus unlock accounts and read the security audit entries.
 */
export const ROLES = ['admin', 'security', 'supervisor', 'dorm', 'facilities', 'counsellor'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = literalUnion(ROLES, { description: 'admin | security | supervisor | dorm | facilities | counsellor (辅导员: attendance and leave of the students in scope.students and scope.dorms, nothing else)' });

/**
 * Where a user may act: buildings, zones and dorm buildings (each absent or empty = not narrowed on that axis).
 * Admin is never scoped. A user with any scope sees only objects in it and is refused (403) one outside it.
 */
export const ScopeSchema = Type.Object(
  {
    buildings: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200, uniqueItems: true })),
    zones: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200, uniqueItems: true })),
    dorms: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200, uniqueItems: true, description: 'dorm buildings (dorm managers)' })),
    students: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 5000, uniqueItems: true, description: 'student ids (counsellors: their students, wherever they live)' })),
  },
  { additionalProperties: false },
);
export type Scope = Static<typeof ScopeSchema>;
