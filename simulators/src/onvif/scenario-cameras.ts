import Type, { type Static } from 'typebox';
import type { SimDevice } from '../runtime.ts';
import { startOnvifSimulator, type OnvifSimulator } from './simulator.ts';

/**
 * Virtual ONVIF cameras in a `warden sim` scenario (issue 10): the scenario's `cameras` section starts one
 * simulator process-wide (HTTP/SOAP on `host:port`, optionally the RTSP test stream), and each camera is a device
 * of the run like the MQTT ones: timeline entries, `--act` and stdin lines drive it by id. Cameras speak their own
 * protocols (ONVIF, RTSP); the gateway reaches them, they connect to nothing.
 */
export const CAMERA_TYPE = 'onvif-camera';

export const CAMERA_ACTIONS: Readonly<Record<string, string>> = {
  offline: 'the camera goes dark: connections dropped, RTSP refused, no discovery answer (the gateway marks it offline after its debounce)',
  online: 'back on the network',
  dropOff: 'same as offline',
  comeBack: 'same as online',
  tamper: 'tamper starts (lens covered or moved): a Changed notification to PullPoint subscribers',
  untamper: 'tamper ends',
  motion: 'motion starts',
  still: 'motion ends',
  drift: 'sets the camera clock offset to `arg` seconds (clock drift)',
};

export const ScenarioCamerasSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, description: 'listen address (default 127.0.0.1)' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'HTTP/SOAP port (default 0 = any free port, printed)' })),
    video: Type.Optional(
      Type.Union(
        [
          Type.Boolean(),
          Type.Object(
            {
              rtspPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'RTSP port pullers use (default 0 = any free port, printed)' })),
              width: Type.Optional(Type.Integer({ minimum: 16, maximum: 1920 })),
              height: Type.Optional(Type.Integer({ minimum: 16, maximum: 1080 })),
              fps: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 })),
            },
            { additionalProperties: false },
          ),
        ],
        { description: 'RTSP test stream from ffmpeg, one for every camera (default false; an object: true with a fixed port or size)' },
      ),
    ),
    list: Type.Array(
      Type.Object(
        {
          id: Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,127}$' }),
          password: Type.String({ minLength: 1, maxLength: 128 }),
          name: Type.Optional(Type.String({ maxLength: 200 })),
          ptz: Type.Optional(Type.Boolean()),
          clockOffsetS: Type.Optional(Type.Number({ minimum: -1e6, maximum: 1e6 })),
          motionEverySeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 5000 },
    ),
  },
  { additionalProperties: false, description: 'virtual ONVIF cameras (device service per camera on one HTTP server)' },
);
export type ScenarioCameras = Static<typeof ScenarioCamerasSchema>;

export interface RunningCameras {
  sim: OnvifSimulator;
  devices: SimDevice[];
  stop(): Promise<void>;
}

export async function startScenarioCameras(spec: ScenarioCameras): Promise<RunningCameras> {
  const sim = await startOnvifSimulator({
    ...(spec.host ? { host: spec.host } : {}),
    ...(spec.port !== undefined ? { port: spec.port } : {}),
    video: spec.video
      ? spec.video === true
        ? {}
        : {
            ...(spec.video.rtspPort !== undefined ? { clientPort: spec.video.rtspPort } : {}),
            ...(spec.video.width ? { width: spec.video.width } : {}),
            ...(spec.video.height ? { height: spec.video.height } : {}),
            ...(spec.video.fps ? { fps: spec.video.fps } : {}),
          }
      : false,
    cameras: spec.list.map((c) => ({
      id: c.id,
      password: c.password,
      ...(c.name ? { name: c.name } : {}),
      ...(c.ptz !== undefined ? { ptz: c.ptz } : {}),
      ...(c.clockOffsetS ? { clockOffsetMs: c.clockOffsetS * 1000 } : {}),
      ...(c.motionEverySeconds ? { motionEverySeconds: c.motionEverySeconds } : {}),
    })),
  });
  // Generous: ffmpeg starting on a busy machine (npm start's campus) must not fail the whole run.
  if (spec.video) await sim.videoReady(60_000);
  const devices = spec.list.map((c): SimDevice => ({
    id: c.id,
    type: CAMERA_TYPE,
    connected: true,
    ready: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    state: () => ({ ...sim.camera(c.id), deviceUrl: sim.deviceUrl(c.id) }),
    async act(action, arg) {
      switch (action) {
        case 'offline':
        case 'dropOff':
          return sim.setOnline(c.id, false);
        case 'online':
        case 'comeBack':
          return sim.setOnline(c.id, true);
        case 'tamper':
        case 'untamper':
          return sim.trigger(c.id, 'tamper', action === 'tamper');
        case 'motion':
        case 'still':
          return sim.trigger(c.id, 'motion', action === 'motion');
        case 'drift': {
          const s = Number(arg);
          if (!Number.isFinite(s) || Math.abs(s) > 1e6) throw new Error(`drift needs seconds, got ${JSON.stringify(arg)}`);
          return sim.setClockOffset(c.id, s * 1000);
        }
        default:
          throw new Error(`camera ${c.id} has no action ${JSON.stringify(action)}; known: ${Object.keys(CAMERA_ACTIONS).join(', ')}`);
      }
    },
  }));
  return { sim, devices, stop: () => sim.stop() };
}
