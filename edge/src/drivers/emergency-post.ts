import Type from 'typebox';
import { event, noOptions, type NoOptions } from '../driver-kit.ts';
import { defineDriver, oneOf, uplink } from '../driver.ts';

const Sos = Type.Object({
  btn: oneOf(['PRESSED', 'RESET']),
  button: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});

/** Emergency call post (help point): a call when pressed, cleared when reset by staff. */
export default defineDriver<NoOptions, undefined>({
  name: 'emergency-post',
  kind: 'emergency_post',
  description: 'emergency call post / help point',
  transport: 'field-mqtt',
  options: noOptions,
  uplinks: {
    'sos/{id}': uplink(Sos, (m) => [m.btn === 'PRESSED' ? event('emergency.call', m.button === undefined ? {} : { button: m.button }) : event('emergency.cleared', {})]),
  },
});
