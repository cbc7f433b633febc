import Type, { type Static } from 'typebox';
import { literalUnion } from '../primitives.ts';
import { IdParams, MsEpoch, Nullable, type RouteDef } from './common.ts';
/**
 * Live video (issue 10): the hub relays a camera's RTSP stream to the console as MPEG-TS (MPEG-1 video, no audio)
 * over a WebSocket, the stream format JSMpeg plays. Not a REST route: a WebSocket on the hub's HTTP listener at
 * `VIDEO_PATH/{cameraId}?token={login token}` (browsers cannot set headers on a WebSocket, hence the query).
 *
 * The server sends binary frames only, each a whole number of 188-byte MPEG-TS packets. When it refuses or ends
 * a stream it closes the socket with one of VIDEO_CLOSE's codes and a human-readable reason.
 */
export const VIDEO_PATH = '/video';

export const VIDEO_CLOSE = {
  /** No login token, or it is invalid, expired or revoked. */
  unauthorized: 4401,
  /** The user's roles do not include viewing cameras (admin, security, supervisor), or the camera is outside their scope. */
  forbidden: 4403,
  /** The hub has no stream source configured for this camera. */
  unknownCamera: 4404,
  /** The hub's cap on concurrent live streams is reached; the reason names the cap. */
  streamLimit: 4429,
  /** The camera's stream could not be pulled (ffmpeg failed 3 times in a row without a frame); the reason says what ffmpeg said, without credentials. */
  upstream: 4502,
  /** The hub is stopping. */
  shutdown: 1001,
} as const;
export type VideoCloseCode = (typeof VIDEO_CLOSE)[keyof typeof VIDEO_CLOSE];

/** The path of one camera's live stream (the console adds `?token=`). */
export function videoPath(cameraId: string): string {
  return `${VIDEO_PATH}/${encodeURIComponent(cameraId)}`;
}

// ---- Camera status (issue 10): every camera the hub has adopted with what its gateway's probes last said ----


export const CAMERA_STATES = ['online', 'offline', 'unknown'] as const;
export type CameraState = (typeof CAMERA_STATES)[number];

export const CameraStatusSchema = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String()),
  gateway: Type.String(),
  building: Nullable(Type.String()),
  zone: Nullable(Type.String()),
  /** online / offline as the gateway's probes decided (device.online/offline); unknown before the first report. */
  state: literalUnion(CAMERA_STATES),
  /** Time of the last good probe the hub heard of (a camera.health report or device.online). */
  lastGoodProbe: Nullable(MsEpoch()),
  /** Camera clock minus gateway clock, whole seconds, from the last health report. */
  driftS: Nullable(Type.Integer()),
  width: Nullable(Type.Integer()),
  height: Nullable(Type.Integer()),
  fps: Nullable(Type.Number()),
  codec: Nullable(Type.String()),
  /** Tamper raised and not yet ended. */
  tampered: Type.Boolean(),
  /** Last camera.motion / camera.tamper / device.offline / device.online event. */
  lastEvent: Nullable(Type.Object({ type: Type.String(), ts: MsEpoch(), state: Type.Optional(Type.Boolean()) })),
});
export type CameraStatus = Static<typeof CameraStatusSchema>;

export const CameraStatusQuerySchema = Type.Object(
  {
    /** Part of the id or name, case-insensitive. */
    q: Type.Optional(Type.String({ maxLength: 64 })),
    building: Type.Optional(Type.String({ maxLength: 64 })),
    state: Type.Optional(literalUnion(CAMERA_STATES)),
    /** Drift at least this many seconds either way. */
    minDriftS: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e9 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);
export type CameraStatusQuery = Static<typeof CameraStatusQuerySchema>;

/**
 * Where and how to open one camera's live view (`POST /api/cameras/:id/live`): the console asks before each view and
 * opens the WebSocket `{url}?ticket={ticket}` before `expiresAt`. `url` is a relay node's `ws(s)://host:port/video/{id}`
 * for a camera the hub assigns to a node (`video.nodes`), else the hub's own relay as a path on the console's origin
 * (`/video/{id}`). The ticket is signed by the hub (Ed25519), names the user, the camera and the relay (audience),
 * is good for one socket and only until `expiresAt`; the relay checks it before any video byte.
 */
export const LiveViewSchema = Type.Object({
  url: Type.String(),
  ticket: Type.String(),
  expiresAt: MsEpoch(),
  /** The relay serving it: a node id from `video.nodes`, or `hub`. */
  relay: Type.String(),
});
export type LiveView = Static<typeof LiveViewSchema>;

export const CAMERA_ROUTES = {
  'POST /api/cameras/:id/live': {
    summary: 'A short-lived ticket and the WebSocket URL to watch one camera live (on the hub or the relay node serving it)',
    params: IdParams(),
    response: LiveViewSchema,
  },
  'GET /api/cameras/status': {
    summary: 'Every camera with its online state, last good probe, stream resolution, clock drift and last event (filtered, paged)',
    query: CameraStatusQuerySchema,
    response: Type.Object({
      cameras: Type.Array(CameraStatusSchema),
      /** Rows matching the filter (before paging). */
      total: Type.Integer(),
      /** Over all cameras in the caller's scope, unfiltered. */
      counts: Type.Object({ online: Type.Integer(), offline: Type.Integer(), unknown: Type.Integer(), tampered: Type.Integer() }),
      buildings: Type.Array(Type.String()),
    }),
  },
} as const satisfies Record<string, RouteDef>;
