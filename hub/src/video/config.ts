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

/**
 * `video:` in hub.yaml: live video (the relay) and snapshots. Camera passwords live here like gateway passwords do;
 * keep hub.yaml readable by the hub only.
 */
export const VideoConfigSchema = Type.Object(
  {
    maxStreams: Type.Integer({ minimum: 1, maximum: 1000, default: 16, description: 'concurrent live streams (one ffmpeg each); a viewer beyond it is told so' }),
    width: Type.Integer({ minimum: 16, maximum: 3840, default: 640 }),
    height: Type.Integer({ minimum: 16, maximum: 2160, default: 360 }),
    fps: Type.Union([Type.Literal(24), Type.Literal(25), Type.Literal(30)], { default: 25, description: 'output frame rate (MPEG-1 allows only standard rates; a slower camera has frames repeated)' }),
    bitrate: Type.String({ pattern: '^[0-9]+k$', default: '800k', description: 'MPEG-1 video bitrate' }),
    transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp')], { default: 'tcp', description: 'RTP transport ffmpeg asks the camera for' }),
    ffmpeg: Type.String({ minLength: 1, default: 'ffmpeg' }),
    cameras: Type.Record(Type.String({ pattern: DEVICE_ID_PATTERN }), CameraSource, { default: {}, description: 'camera device id → stream source and ONVIF service' }),
    snapshots: SnapshotSettings,
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
  for (const [point, cam] of Object.entries(c.snapshots.faceCameras)) {
    if (!c.cameras[cam]?.onvif) errors.push(`/video/snapshots/faceCameras/${point}: camera ${cam} has no \`onvif\` service under video.cameras`);
  }
  return errors;
}
