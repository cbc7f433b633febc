import Type, { type Static } from 'typebox';
import { defineDriver, oneOf, uplink, type DeviceContext } from '../driver.ts';

const Options = Type.Object({}, { additionalProperties: false });
type Ctx = DeviceContext<Static<typeof Options>, undefined>;

const Sos = Type.Object({
  btn: oneOf(['PRESSED', 'RESET']),
  button: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});

/** Emergency call post (help point): a call when pressed, cleared when reset by staff. */
export default defineDriver<Static<typeof Options>, undefined>({
  name: 'emergency-post',
  kind: 'emergency_post',
  description: 'emergency call post / help point',
  options: Options,
  initialState: () => undefined,
  uplinks: {
    'sos/{id}': uplink(Sos, (m, _c: Ctx) =>
      m.btn === 'PRESSED'
        ? [{ kind: 'event', type: 'emergency.call', data: m.button === undefined ? {} : { button: m.button } }]
        : [{ kind: 'event', type: 'emergency.cleared', data: {} }],
    ),
  },
  replies: {},
  commands: {},
});
