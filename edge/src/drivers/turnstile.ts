import Type, { type Static } from 'typebox';
import { defineDriver, epochMs, oneOf, replyDecoder, uplink, type DeviceContext } from '../driver.ts';

const Options = Type.Object({}, { additionalProperties: false });
type Ctx = DeviceContext<Static<typeof Options>, undefined>;

const Mode = oneOf(['NORMAL', 'FREE', 'LOCKED']);
const toMode = { NORMAL: 'normal', FREE: 'free', LOCKED: 'locked' } as const;
const fromMode = { normal: 'NORMAL', free: 'FREE', locked: 'LOCKED' } as const;

const Pass = Type.Object({
  dir: oneOf(['IN', 'OUT']),
  card: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  /** false = a passage without a grant (tailgating, jumping). */
  auth: Type.Boolean(),
  t: Type.Optional(Type.Number()),
});
const ModeReport = Type.Object({ mode: Mode });
const Reply = Type.Object({ ref: Type.String({ minLength: 1 }), ok: Type.Boolean(), err: Type.Optional(Type.String()) });

/** Speed gate / turnstile: passages with direction and authorisation, operating mode. */
export default defineDriver<Static<typeof Options>, undefined>({
  name: 'turnstile',
  kind: 'turnstile',
  description: 'turnstile or speed gate with a card reader',
  options: Options,
  initialState: () => undefined,
  uplinks: {
    'gate/{id}/pass': uplink(Pass, (m, _c: Ctx) => [
      {
        kind: 'event',
        type: 'turnstile.pass',
        data: { direction: m.dir === 'IN' ? 'in' : 'out', granted: m.auth, ...(m.card === undefined ? {} : { credential: m.card }) },
        ts: epochMs(m.t),
      },
    ]),
    'gate/{id}/mode': uplink(ModeReport, (m, _c: Ctx) => [{ kind: 'event', type: 'turnstile.mode', data: { mode: toMode[m.mode] } }]),
  },
  replies: {
    'gate/{id}/set/reply': replyDecoder(Reply, (r) => ({ ref: r.ref, ok: r.ok, error: r.ok ? undefined : r.err || 'device refused' })),
  },
  commands: {
    'turnstile.set_mode': (p, c) => ({ topic: `gate/${c.id}/set`, payload: { mode: fromMode[p.mode], ref: c.ref } }),
  },
});
