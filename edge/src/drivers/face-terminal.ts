import Type, { type Static } from 'typebox';
import { DEVICE_ID } from '@warden/contract';
import { event, lockControl, okReply, unlockSecondsOption } from '../driver-kit.ts';
import { defineDriver, epochMs, uplink, type DeviceContext, type Emission } from '../driver.ts';

const Options = Type.Object(
  {
    mode: Type.Union([Type.Literal('access'), Type.Literal('dorm'), Type.Literal('trajectory')], {
      default: 'access',
      description: 'access: a door; dorm: check-in with direction; trajectory: sightings only',
    }),
    threshold: Type.Optional(
      Type.Number({ minimum: -1, maximum: 1, description: 'match threshold (cosine similarity); default per recogniser (face/config.ts DEFAULT_THRESHOLDS)' }),
    ),
    door: Type.Optional(
      Type.String({ pattern: DEVICE_ID.source, description: 'door controller to unlock on a grant; without one the terminal opens its own lock on GRANT/CHECKIN' }),
    ),
    direction: Type.Union([Type.Literal('in'), Type.Literal('out')], { default: 'in', description: 'direction reported by dorm check-ins at this point' }),
    minReal: Type.Number({ minimum: 0, maximum: 1, default: 0, description: 'minimum antispoof score at access and dorm points (0 = not checked)' }),
    unlockSeconds: unlockSecondsOption('how long a granted door stays released'),
  },
  { additionalProperties: false },
);
export type FaceTerminalOptions = Static<typeof Options>;

/**
 * A capture: a JPEG/PNG frame (base64) and/or a card or QR code read by the terminal. 350,000 base64
 * characters is a 256 KiB image: the field broker's default packet limit (field.maxPacketBytes) with room
 * for the rest of the message.
 */
export const Capture = Type.Object(
  {
    image: Type.Optional(Type.String({ minLength: 4, maxLength: 350_000, pattern: '^[A-Za-z0-9+/]+={0,2}$' })),
    card: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    qr: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    ref: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    t: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);
export type CaptureMessage = Static<typeof Capture>;

/**
 * Without face decisions on the gateway (face.enabled false) a capture still leaves a trace: the attempt
 * is denied and reported, so a misconfigured point is visible in the console instead of silently dead.
 * With them on, the agent hands captures to the face service (edge/src/face/service.ts) instead.
 */
function decodeCapture(m: CaptureMessage, _ctx: DeviceContext<FaceTerminalOptions, undefined>): Emission[] {
  const method = m.image !== undefined ? 'face' : m.card !== undefined ? 'card' : 'qr';
  const credential = m.card ?? m.qr;
  return [event('access.denied', { method, ...(credential && !m.image ? { credential } : {}), reason: 'face decisions are not enabled on this gateway' }, epochMs(m.t))];
}

/** Face terminal at a door, dorm entrance or junction: sends captures, takes results and unlock commands. */
export default defineDriver<FaceTerminalOptions, undefined>({
  name: 'face-terminal',
  kind: 'face_terminal',
  description: 'face recognition terminal (camera + card/QR reader + lock output); decisions made on the gateway',
  transport: 'field-mqtt',
  options: Options,
  uplinks: { 'face/{id}/capture': uplink(Capture, decodeCapture) },
  replies: { 'face/{id}/control/reply': okReply('terminal reported failure') },
  commands: lockControl<FaceTerminalOptions>('face/{id}/control'),
});
