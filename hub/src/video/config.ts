import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { DEVICE_ID_PATTERN, schemaErrors } from '@warden/contract';

const CameraSource = Type.Object(
  {
    url: Type.String({ pattern: '^rtsps?://', maxLength: 2000, description: 'the camera’s RTSP stream URI (ONVIF GetStreamUri), without credentials' }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    transport: Type.Optional(Type.Union([Type.Literal('udp'), Type.Literal('tcp')], { description: 'RTP transport; default: the file’s `transport`' })),
  },
  { additionalProperties: false },
);

export const VideoConfigSchema = Type.Object(
  {
    maxStreams: Type.Integer({ minimum: 1, maximum: 1000, default: 16, description: 'concurrent live streams (one ffmpeg each); a viewer beyond it is told so' }),
    width: Type.Integer({ minimum: 16, maximum: 3840, default: 640 }),
    height: Type.Integer({ minimum: 16, maximum: 2160, default: 360 }),
    fps: Type.Union([Type.Literal(24), Type.Literal(25), Type.Literal(30)], { default: 25, description: 'output frame rate (MPEG-1 allows only standard rates; a slower camera has frames repeated)' }),
    bitrate: Type.String({ pattern: '^[0-9]+k$', default: '800k', description: 'MPEG-1 video bitrate' }),
    transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp')], { default: 'tcp', description: 'RTP transport ffmpeg asks the camera for' }),
    ffmpeg: Type.String({ minLength: 1, default: 'ffmpeg' }),
    cameras: Type.Record(Type.String({ pattern: DEVICE_ID_PATTERN }), CameraSource, { default: {}, description: 'camera device id → stream source' }),
  },
  { additionalProperties: false, default: {} },
);
export type VideoConfig = Static<typeof VideoConfigSchema>;
export type CameraSourceConfig = Static<typeof CameraSource>;

/** The video sources file in the hub's data dir: it holds camera passwords, so like jwt-secret it stays there, 0600. */
export const VIDEO_FILE = 'video.yaml';

/** Reads `<dataDir>/video.yaml` (absent: no camera has live video). Bad content throws a clear error at start. */
export function loadVideoConfig(dataDir: string): VideoConfig {
  const file = join(dataDir, VIDEO_FILE);
  const raw: unknown = existsSync(file) ? (parseYaml(readFileSync(file, 'utf8')) ?? {}) : {};
  if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) throw new Error(`${file} holds camera passwords: make it readable by the hub only (chmod 600)`);
  const value = Value.Default(VideoConfigSchema, Value.Clone(raw));
  if (!Value.Check(VideoConfigSchema, value)) throw new Error(`${file}: ${schemaErrors(VideoConfigSchema, value).join('; ')}`);
  return value as VideoConfig;
}
