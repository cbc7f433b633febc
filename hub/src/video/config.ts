import Type, { type Static } from 'typebox';
import { DEVICE_ID_PATTERN } from '@warden/contract';

const CameraSource = Type.Object(
  {
    url: Type.Optional(
      Type.String({
        pattern: '^(rtsps?|https?)://',
        maxLength: 2000,
        description: 'the camera’s live stream, without credentials: its RTSP URI (ONVIF GetStreamUri) or an HTTP stream ffmpeg reads (MPEG-TS, MJPEG); absent: no live video for it',
      }),
    ),
    onvif: Type.Optional(
      Type.String({ pattern: '^https?://', maxLength: 2000, description: 'the camera’s ONVIF device service (xaddr), for snapshots (GetSnapshotUri); absent: no snapshots of it' }),
    ),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    transport: Type.Optional(Type.Union([Type.Literal('udp'), Type.Literal('tcp')], { description: 'RTP transport; default: the section’s `transport`' })),
  },
  { additionalProperties: false },
);

const SnapshotSettings = Type.Object(
  {
    onAlarm: Type.Boolean({ default: true, description: 'take a snapshot of each camera an alarm’s linkage names, when it is raised' }),
    onFace: Type.Boolean({ default: true, description: 'take a snapshot of the camera at a face sighting’s point (`faceCameras`)' }),
    faceCameras: Type.Record(Type.String({ pattern: DEVICE_ID_PATTERN }), Type.String({ pattern: DEVICE_ID_PATTERN }), {
      default: {},
      description: 'face terminal (sighting point) device id → the camera watching it',
    }),
    timeoutSeconds: Type.Integer({ minimum: 1, maximum: 60, default: 8, description: 'one snapshot fetch (ONVIF call and HTTP GET) gives up after this' }),
    maxBytes: Type.Integer({ minimum: 1024, maximum: 20 * 1024 * 1024, default: 4 * 1024 * 1024, description: 'a larger snapshot is refused (counted)' }),
    concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'snapshot fetches in flight at once; more wait' }),
  },
  { additionalProperties: false, default: {} },
);

/** How a relay pulls and transcodes: `video:` in hub.yaml and a relay node's relay.yaml share these. */
export const STREAM_SETTINGS = {
  maxStreams: Type.Integer({ minimum: 1, maximum: 1000, default: 16, description: 'concurrent live streams (one ffmpeg each); a viewer beyond it is told so' }),
  width: Type.Integer({ minimum: 16, maximum: 3840, default: 640 }),
  height: Type.Integer({ minimum: 16, maximum: 2160, default: 360 }),
  fps: Type.Union([Type.Literal(24), Type.Literal(25), Type.Literal(30)], { default: 25, description: 'output frame rate (MPEG-1 allows only standard rates; a slower camera has frames repeated)' }),
  bitrate: Type.String({ pattern: '^[0-9]+k$', default: '800k', description: 'MPEG-1 video bitrate' }),
  transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp')], { default: 'tcp', description: 'RTP transport ffmpeg asks the camera for' }),
  ffmpeg: Type.String({ minLength: 1, default: 'ffmpeg' }),
  cameras: Type.Record(Type.String({ pattern: DEVICE_ID_PATTERN }), CameraSource, { default: {}, description: 'camera device id → stream source and ONVIF service' }),
};
/** What VideoRelay needs of either config. */
export type StreamSettings = Pick<VideoConfig, keyof typeof STREAM_SETTINGS>;

/** A relay node's id: the audience of its tickets (`hub` is the hub's own relay). */
export const RELAY_NODE_ID_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,63}$';

const RelayNode = Type.Object(
  {
    url: Type.String({ pattern: '^wss?://[^/?#]+/?$', maxLength: 500, description: 'where browsers reach the node: ws(s)://host:port (its `listen`, as the console sees it)' }),
    cameras: Type.Optional(Type.Array(Type.String({ pattern: DEVICE_ID_PATTERN }), { maxItems: 10_000, description: 'cameras this node serves (its relay.yaml holds their stream sources); absent: none yet; the rest stay on the hub’s relay' })),
  },
  { additionalProperties: false },
);

/**
 * `video:` in hub.yaml: live video (the relay) and snapshots. Camera passwords live here like gateway passwords do;
 * keep hub.yaml readable by the hub only.
 */
export const VideoConfigSchema = Type.Object(
  {
    ...STREAM_SETTINGS,
    snapshots: SnapshotSettings,
    nodes: Type.Record(Type.String({ pattern: RELAY_NODE_ID_PATTERN }), RelayNode, {
      default: {},
      description: 'relay nodes (`warden relay`) on other boxes, each serving the cameras listed; cameras on no node stay on the hub’s own relay',
    }),
    ticketSeconds: Type.Integer({ minimum: 5, maximum: 600, default: 60, description: 'a live-view ticket must be used (the socket opened) within this' }),
  },
  { additionalProperties: false, default: {}, description: 'live video relay and camera snapshots (hub/README.md, "Cameras")' },
);
export type VideoConfig = Static<typeof VideoConfigSchema>;
export type CameraSourceConfig = Static<typeof CameraSource>;

/** The file session 2 read sources from; now refused with a pointer to hub.yaml so nothing is silently ignored. */
export const LEGACY_VIDEO_FILE = 'video.yaml';

/** Cross-field checks of `video` (schema-valid already), as messages for the config error. */
export function checkVideoConfig(c: VideoConfig): string[] {
  const errors: string[] = [];
  for (const [id, src] of Object.entries(c.cameras)) {
    if (!src.url && !src.onvif) errors.push(`/video/cameras/${id}: give \`url\` (live video) or \`onvif\` (snapshots), or both`);
    if (src.password && !src.username) errors.push(`/video/cameras/${id}: a password without a username`);
  }
  const servedBy = new Map<string, string>();
  for (const [node, n] of Object.entries(c.nodes)) {
    if (node === 'hub') errors.push(`/video/nodes/hub: \`hub\` is the hub's own relay; name the node otherwise`);
    for (const cam of n.cameras ?? []) {
      const other = servedBy.get(cam);
      if (other) errors.push(`/video/nodes/${node}/cameras: camera ${cam} is listed on node ${other} too; one node serves a camera`);
      servedBy.set(cam, node);
    }
  }
  for (const [point, cam] of Object.entries(c.snapshots.faceCameras)) {
    if (!c.cameras[cam]?.onvif) errors.push(`/video/snapshots/faceCameras/${point}: camera ${cam} has no \`onvif\` service under video.cameras`);
  }
  return errors;
}

/** The relay serving a camera: the node listing it, else the hub's own (`undefined`). */
export function nodeOf(c: VideoConfig, camera: string): { id: string; url: string } | undefined {
  for (const [id, n] of Object.entries(c.nodes)) if (n.cameras?.includes(camera)) return { id, url: n.url.replace(/\/$/, '') };
  return undefined;
}
