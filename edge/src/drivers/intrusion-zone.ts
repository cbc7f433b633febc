import Type, { type Static } from 'typebox';
import { defineDriver, oneOf, replyDecoder, uplink, type DeviceContext, type Emission } from '../driver.ts';

const Options = Type.Object({}, { additionalProperties: false });
type Ctx = DeviceContext<Static<typeof Options>, undefined>;

const Zone = Type.Object({
  zone: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  status: oneOf(['ALARM', 'NORMAL', 'TAMPER']),
});
const Arm = Type.Object({
  armed: Type.Boolean(),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});
const Reply = Type.Object({ ref: Type.String({ minLength: 1 }), ok: Type.Boolean(), err: Type.Optional(Type.String()) });

function decodeZone(m: Static<typeof Zone>, _c: Ctx): Emission[] {
  if (m.status === 'ALARM') return [{ kind: 'event', type: 'intrusion.alarm', data: m.zone === undefined ? {} : { zone: m.zone } }];
  if (m.status === 'TAMPER') return [{ kind: 'event', type: 'intrusion.tamper', data: {} }];
  // The contract has no "zone normal" event: a zone returning to normal is not news to the hub.
  return [];
}

/** One zone of an intrusion-alarm panel, with arming and disarming. */
export default defineDriver<Static<typeof Options>, undefined>({
  name: 'intrusion-zone',
  kind: 'intrusion_zone',
  description: 'intrusion alarm panel zone',
  options: Options,
  initialState: () => undefined,
  uplinks: {
    'ias/{id}/zone': uplink(Zone, decodeZone),
    'ias/{id}/arm': uplink(Arm, (m, _c: Ctx) =>
      m.armed
        ? [{ kind: 'event', type: 'intrusion.armed', data: {} }]
        : [{ kind: 'event', type: 'intrusion.disarmed', data: m.user === undefined ? {} : { by: m.user } }],
    ),
  },
  replies: {
    'ias/{id}/cmd/reply': replyDecoder(Reply, (r) => ({ ref: r.ref, ok: r.ok, error: r.ok ? undefined : r.err || 'panel refused' })),
  },
  commands: {
    'intrusion.arm': (_p, c) => ({ topic: `ias/${c.id}/cmd`, payload: { cmd: 'ARM', ref: c.ref } }),
    'intrusion.disarm': (_p, c) => ({ topic: `ias/${c.id}/cmd`, payload: { cmd: 'DISARM', ref: c.ref } }),
  },
});
