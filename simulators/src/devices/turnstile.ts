import Type from 'typebox';
import { commonOptions, defineDevice, stringArg, type CommandOutcome } from '../device.ts';
import { ProfileSchema, activity, inShare } from '../daily.ts';
import { cardPool } from '../cards.ts';

type Mode = 'NORMAL' | 'FREE' | 'LOCKED';
type Dir = 'IN' | 'OUT';
const MODES: readonly Mode[] = ['NORMAL', 'FREE', 'LOCKED'];

function dirArg(arg: unknown, fallback: () => Dir): Dir {
  const d = stringArg(arg, '').toUpperCase();
  if (d === '') return fallback();
  if (d !== 'IN' && d !== 'OUT') throw new Error(`direction must be IN or OUT, got ${JSON.stringify(arg)}`);
  return d;
}

/**
 * A card/face turnstile lane (campus gates, library, dorm check-in). Passages follow the building's day
 * and direction by hour (a dorm empties in the morning, fills at night); almost all are granted, a few
 * people jump the barrier. FREE lets everyone through (evacuation), LOCKED nobody.
 */
export const turnstile = defineDevice({
  type: 'turnstile',
  kind: 'turnstile',
  prefix: 'gate',
  description: 'turnstile lane with card or face reader',
  options: Type.Object(
    {
      ...commonOptions,
      mode: Type.Union(
        MODES.map((m) => Type.Literal(m)),
        { default: 'NORMAL', description: 'mode at power-up' },
      ),
      profile: ProfileSchema('office', 'daily traffic shape'),
      meanIntervalS: Type.Number({ minimum: 0.1, default: 20, description: 'mean gap between passages at the busiest hour, simulated seconds' }),
      jumpRate: Type.Number({ minimum: 0, maximum: 1, default: 0.003, description: 'share of passages without a grant' }),
      cardholders: Type.Integer({ minimum: 1, maximum: 100_000, default: 500, description: 'size of the population using this lane' }),
    },
    { additionalProperties: false },
  ),
  actions: {
    pass: 'a granted passage (arg: IN or OUT, default by time of day)',
    tailgate: 'a granted passage immediately followed by a second person without a grant (arg: IN or OUT)',
    jump: 'one person over the barrier without a grant (arg: IN or OUT)',
    passback: 'one card lets two people in, with no exit between (anti-passback; arg: card number, default one of the pool)',
  },
  create(ctx, o) {
    const cards = cardPool(ctx.rng, o.cardholders);
    let mode: Mode = o.mode;
    let passes = 0;

    const direction = (): Dir => (ctx.rng.chance(inShare(o.profile, ctx.clock.hour())) ? 'IN' : 'OUT');
    const pass = (dir: Dir, auth: boolean): void => {
      passes++;
      // In FREE mode nobody presents a card, but the lane is open, so the passage is authorised.
      const card = auth && mode !== 'FREE' ? { card: ctx.rng.pick(cards) } : {};
      ctx.publish(ctx.topic('pass'), { dir, ...card, auth, t: Date.now() });
    };
    const reportMode = (): void => ctx.publish(ctx.topic('mode'), { mode });

    const set = (msg: Record<string, unknown>): CommandOutcome => {
      if (!MODES.includes(msg.mode as Mode)) return { ok: false, error: `mode must be one of ${MODES.join(', ')}, got ${JSON.stringify(msg.mode)}` };
      if (mode !== msg.mode) {
        mode = msg.mode as Mode;
        reportMode();
      }
      return { ok: true };
    };

    return {
      state: () => ({ mode, passes }),
      onConnect: reportMode,
      behave() {
        ctx.poisson(
          () => o.meanIntervalS / Math.max(activity(o.profile, ctx.clock.hour()), 0.01),
          () => {
            if (mode === 'LOCKED') return;
            pass(direction(), mode === 'FREE' || !ctx.rng.chance(o.jumpRate));
          },
        );
      },
      actions: {
        pass: (arg) => {
          if (mode === 'LOCKED') throw new Error(`${ctx.id} is LOCKED; nobody can pass`);
          pass(dirArg(arg, direction), true);
        },
        tailgate: (arg) => {
          const dir = dirArg(arg, direction);
          pass(dir, true);
          pass(dir, false);
        },
        jump: (arg) => pass(dirArg(arg, direction), false),
        passback: (arg) => {
          if (mode !== 'NORMAL') throw new Error(`${ctx.id} is ${mode}; a card is only checked in NORMAL mode`);
          const card = stringArg(arg, '') || ctx.rng.pick(cards);
          for (let i = 0; i < 2; i++) {
            passes++;
            ctx.publish(ctx.topic('pass'), { dir: 'IN', card, auth: true, t: Date.now() });
          }
        },
      },
      commands: [
        {
          suffix: 'set',
          handle: set,
          reply: (ref, r) => (r.ok ? { ref, ok: true } : { ref, ok: false, err: r.error }),
        },
      ],
    };
  },
});
