import Type from 'typebox';
import { command, event, okReply, telemetry } from '../driver-kit.ts';
import { defineDriver, oneOf, uplink } from '../driver.ts';
import { OnvifConnectionOptions } from '../transports/onvif.ts';

const Options = Type.Object({ ...OnvifConnectionOptions.properties }, { additionalProperties: false, description: 'xaddr and password required; reached by the agent over ONVIF' });

const Event = Type.Object({ kind: oneOf(['motion', 'tamper']), state: Type.Boolean(), ts: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false });
const Health = Type.Object(
  {
    clock_drift_s: Type.Optional(Type.Number()),
    stream_width: Type.Optional(Type.Integer({ minimum: 1 })),
    stream_height: Type.Optional(Type.Integer({ minimum: 1 })),
    stream_fps: Type.Optional(Type.Number({ minimum: 0 })),
    ts: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const Status = Type.Object(
  {
    drift_s: Type.Integer(),
    width: Type.Optional(Type.Integer({ minimum: 1, maximum: 16384 })),
    height: Type.Optional(Type.Integer({ minimum: 1, maximum: 16384 })),
    fps: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
    codec: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    ts: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/**
 * ONVIF IP camera (Profile S) on the `onvif` transport: motion and tamper notifications become
 * camera.motion / camera.tamper, probe facts become telemetry (clock drift, stream size), and
 * camera.goto_preset points a PTZ camera at a stored preset (alarm linkage).
 */
export default defineDriver({
  name: 'onvif-camera',
  kind: 'camera',
  description: 'IP camera over ONVIF: health, motion and tamper events, PTZ presets',
  transport: 'onvif',
  options: Options,
  uplinks: {
    'onvif/{id}/event': uplink(Event, (m) => [event(m.kind === 'motion' ? 'camera.motion' : 'camera.tamper', { state: m.state }, m.ts)]),
    'onvif/{id}/health': uplink(Health, (m) => {
      const { ts, ...metrics } = m;
      const numbers = Object.fromEntries(Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === 'number'));
      return Object.keys(numbers).length ? [telemetry(numbers, ts)] : [];
    }),
    // The probe's health report (on change and as a heartbeat) → camera.health, what the hub's camera status reads.
    'onvif/{id}/status': uplink(Status, (m) => {
      const { ts, ...data } = m;
      return [event('camera.health', data, ts)];
    }),
  },
  replies: { 'onvif/{id}/reply': okReply('camera refused the command') },
  commands: { 'camera.goto_preset': command<'camera.goto_preset'>('onvif/{id}/goto_preset', (p) => ({ preset: p.preset })) },
});
