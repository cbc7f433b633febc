import Type from 'typebox';
import { command, event, noOptions, okReply, type NoOptions } from '../driver-kit.ts';
import { defineDriver, epochMs, oneOf, uplink } from '../driver.ts';

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

/** Speed gate / turnstile: passages with direction and authorisation, operating mode. */
export default defineDriver<NoOptions, undefined>({
  name: 'turnstile',
  kind: 'turnstile',
  description: 'turnstile or speed gate with a card reader',
  transport: 'field-mqtt',
  options: noOptions,
  uplinks: {
    'gate/{id}/pass': uplink(Pass, (m) => [
      event('turnstile.pass', { direction: m.dir === 'IN' ? 'in' : 'out', granted: m.auth, ...(m.card === undefined ? {} : { credential: m.card }) }, epochMs(m.t)),
    ]),
    'gate/{id}/mode': uplink(ModeReport, (m) => [event('turnstile.mode', { mode: toMode[m.mode] })]),
  },
  replies: { 'gate/{id}/set/reply': okReply('device refused') },
  commands: {
    'turnstile.set_mode': command<'turnstile.set_mode'>('gate/{id}/set', (p) => ({ mode: fromMode[p.mode] })),
  },
});
