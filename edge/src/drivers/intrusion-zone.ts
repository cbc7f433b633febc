import Type, { type Static } from 'typebox';
import { command, event, noOptions, okReply, type NoOptions } from '../driver-kit.ts';
import { defineDriver, oneOf, uplink, type Emission } from '../driver.ts';

const Zone = Type.Object({
  zone: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  status: oneOf(['ALARM', 'NORMAL', 'TAMPER']),
});
const Arm = Type.Object({
  armed: Type.Boolean(),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});

function decodeZone(m: Static<typeof Zone>): Emission[] {
  if (m.status === 'ALARM') return [event('intrusion.alarm', m.zone === undefined ? {} : { zone: m.zone })];
  if (m.status === 'TAMPER') return [event('intrusion.tamper', {})];
  // The contract has no "zone normal" event: a zone returning to normal is not news to the hub.
  return [];
}

/** One zone of an intrusion-alarm panel, with arming and disarming. */
export default defineDriver<NoOptions, undefined>({
  name: 'intrusion-zone',
  kind: 'intrusion_zone',
  description: 'intrusion alarm panel zone',
  transport: 'field-mqtt',
  options: noOptions,
  uplinks: {
    'ias/{id}/zone': uplink(Zone, decodeZone),
    'ias/{id}/arm': uplink(Arm, (m) => [m.armed ? event('intrusion.armed', {}) : event('intrusion.disarmed', m.user === undefined ? {} : { by: m.user })]),
  },
  replies: { 'ias/{id}/cmd/reply': okReply('panel refused') },
  commands: {
    'intrusion.arm': command('ias/{id}/cmd', () => ({ cmd: 'ARM' })),
    'intrusion.disarm': command('ias/{id}/cmd', () => ({ cmd: 'DISARM' })),
  },
});
