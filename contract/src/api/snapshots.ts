import Type, { type Static } from 'typebox';
import { IdParams, MsEpoch, Nullable, type RouteDef } from './common.ts';

/**
 * Camera snapshots (issue 10): a still JPEG the hub takes from a camera (ONVIF GetSnapshotUri, then HTTP GET) when an
 * alarm's linkage names the camera (`cause: 'alarm'`) or a face terminal watched by the camera reports a sighting
 * (`cause: 'face'`). Kept for `retention.snapshots` days. Alarm snapshots are for the security roles; face
 * snapshots only for roles that may see faces (security, and a dorm manager for the dorm buildings).
 */
export const SNAPSHOT_CAUSES = ['alarm', 'face'] as const;
export type SnapshotCause = (typeof SNAPSHOT_CAUSES)[number];

export const SnapshotSchema = Type.Object({
  id: Type.String(),
  camera: Type.String(),
  /** When the hub took it (hub clock). */
  ts: MsEpoch(),
  cause: Type.Union([Type.Literal('alarm'), Type.Literal('face')]),
  /** The alarm whose linkage asked for it (cause alarm). */
  alarmId: Nullable(Type.String()),
  /** The face event (face.sighting / face.stranger / face.watchlist) id it belongs to (cause face). */
  eventId: Nullable(Type.String()),
  bytes: Type.Integer({ minimum: 0 }),
});
export type Snapshot = Static<typeof SnapshotSchema>;

export const SnapshotQuerySchema = Type.Object(
  {
    alarm: Type.Optional(Type.String({ maxLength: 64 })),
    /** A face event id. */
    event: Type.Optional(Type.String({ maxLength: 64 })),
    camera: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  },
  { additionalProperties: false },
);
export type SnapshotQuery = Static<typeof SnapshotQuerySchema>;

export const SNAPSHOT_ROUTES = {
  'GET /api/snapshots': {
    summary: 'Snapshots the caller may see (alarm ones: security roles; face ones: roles that see faces), newest first; by alarm, face event or camera',
    query: SnapshotQuerySchema,
    response: Type.Object({ snapshots: Type.Array(SnapshotSchema) }),
  },
  'GET /api/snapshots/:id': {
    summary: 'One snapshot as image/jpeg (404 once past retention)',
    params: IdParams(),
    response: Type.String({ description: 'JPEG bytes (image/jpeg)' }),
  },
} as const satisfies Record<string, RouteDef>;
