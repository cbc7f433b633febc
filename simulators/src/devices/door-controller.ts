import Type from 'typebox';
import { commonOptions, defineDevice, isoNow, numberArg, stringArg, type CommandOutcome } from '../device.ts';
import { ProfileSchema, activity } from '../daily.ts';
import { cardPool, strangerCard } from '../cards.ts';

const DENY_REASONS = ['expired', 'not_authorized', 'out_of_schedule', 'unknown_card'] as const;
const FACE_DENY_REASONS = ['not_enrolled', 'not_authorized', 'out_of_schedule', 'liveness_failed'] as const;

/**
 * A single-door access controller (card or face reader, electric lock, door contact). People arrive at
 * a rate that follows the building's day; most are granted, unlock, open, pass and close; a few are
 * denied; now and then someone leaves the door propped open past the held-open threshold.
 */
export const doorController = defineDevice({
  type: 'door-controller',
  kind: 'door',
  prefix: 'acs',
  description: 'access-controlled door: reader, lock and door contact',
  options: Type.Object(
    {
      ...commonOptions,
      door: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'door number on the controller' }),
      reader: Type.Union([Type.Literal('card'), Type.Literal('face')], { default: 'card', description: 'credential reader' }),
      profile: ProfileSchema('office', 'daily traffic shape'),
      meanIntervalS: Type.Number({ minimum: 1, default: 120, description: 'mean gap between people at the busiest hour, simulated seconds' }),
      denyRate: Type.Number({ minimum: 0, maximum: 1, default: 0.04, description: 'share of attempts denied' }),
      heldRate: Type.Number({ minimum: 0, maximum: 1, default: 0.01, description: 'share of passages that leave the door propped open' }),
      heldAfterS: Type.Number({ minimum: 1, default: 30, description: 'held-open alarm threshold, seconds' }),
      unlockS: Type.Number({ minimum: 1, maximum: 3600, default: 5, description: 'lock release time after a grant, seconds' }),
      cardholders: Type.Integer({ minimum: 1, maximum: 100_000, default: 200, description: 'size of the population using this door' }),
    },
    { additionalProperties: false },
  ),
  actions: {
    pass: 'a granted passage now (arg: card number, optional)',
    force: 'the door is opened without a grant: FORCED_OPEN, then closes (arg: seconds open, default 8)',
    holdOpen: 'a granted person props the door open (arg: seconds, default 60); HELD_OPEN past the threshold',
    deniedBurst: 'one card tried again and again (arg: attempts, default 5)',
  },
  create(ctx, o) {
    const cards = cardPool(ctx.rng, o.cardholders);
    let mode: 'normal' | 'hold_open' = 'normal';
    let locked = true;
    let open = false;
    /** The release ran out while the door stood open: lock as soon as it closes. */
    let lockOnClose = false;
    let relock: { cancel(): void } | undefined;
    let held: { cancel(): void } | undefined;

    const ev = (event: string, extra: Record<string, unknown> = {}): void =>
      ctx.publish(ctx.topic('event'), { event, door: o.door, ...extra, time: isoNow() });

    const lockNow = (): void => {
      relock?.cancel();
      relock = undefined;
      if (open) {
        lockOnClose = true;
        return;
      }
      lockOnClose = false;
      if (!locked) {
        locked = true;
        ev('LOCKED');
      }
    };

    /** seconds undefined: stay released (hold-open mode). */
    const unlock = (seconds?: number): void => {
      relock?.cancel();
      relock = undefined;
      lockOnClose = false;
      if (locked) {
        locked = false;
        ev('UNLOCKED');
      }
      if (seconds !== undefined) relock = ctx.after(seconds, () => mode === 'normal' && lockNow());
    };

    const openFor = (seconds: number, forced: boolean): void => {
      if (open) return; // already open: the person walks through with the one ahead
      open = true;
      ev(forced ? 'FORCED_OPEN' : 'DOOR_OPEN');
      held?.cancel();
      if (mode === 'normal' && seconds > o.heldAfterS) {
        held = ctx.after(o.heldAfterS, () => open && mode === 'normal' && ev('HELD_OPEN', { held_s: o.heldAfterS }));
      }
      ctx.after(seconds, () => {
        held?.cancel();
        open = false;
        ev('DOOR_CLOSE');
        if (lockOnClose && mode === 'normal') lockNow();
      });
    };

    const idle = (): boolean => locked && !open && mode === 'normal';

    /** Physical actions wait for a passage in progress to finish, as a person at the door would. */
    const whenIdle = (what: string, fn: () => void, tries = 60): void => {
      if (mode === 'hold_open') throw new Error(`${ctx.id}: the door is held open by command; ${what} is not possible`);
      if (idle()) return fn();
      if (tries <= 0) return void ctx.log.warn({ action: what }, 'door never became idle; action dropped');
      ctx.after(1, () => {
        try {
          whenIdle(what, fn, tries - 1);
        } catch (err) {
          ctx.log.warn({ action: what, err: (err as Error).message }, 'action abandoned');
        }
      });
    };

    const grantedPassage = (card: string, openSeconds: number): void => {
      ev('CARD_GRANTED', { card });
      unlock(o.unlockS);
      ctx.after(ctx.rng.float(0.8, 2), () => openFor(openSeconds, false));
    };

    const deny = (card: string, reason: string): void => ev('CARD_DENIED', { card, reason });
    const reasons = o.reader === 'face' ? FACE_DENY_REASONS : DENY_REASONS;

    const arrival = (): void => {
      if (open) return; // walks through with the person ahead
      if (mode === 'hold_open' || !locked) return openFor(ctx.rng.float(3, 8), false);
      if (ctx.rng.chance(o.denyRate)) {
        const stranger = ctx.rng.chance(0.3);
        deny(stranger ? strangerCard(ctx.rng) : ctx.rng.pick(cards), stranger ? reasons[reasons.length - 1]! : ctx.rng.pick(reasons.slice(0, 3)));
        return;
      }
      const propped = ctx.rng.chance(o.heldRate);
      grantedPassage(ctx.rng.pick(cards), propped ? o.heldAfterS + ctx.rng.float(10, 90) : ctx.rng.float(3, 8));
    };

    const control = (msg: Record<string, unknown>): CommandOutcome => {
      switch (msg.op) {
        case 'UNLOCK': {
          const s = msg.seconds ?? o.unlockS;
          if (typeof s !== 'number' || !(s >= 1 && s <= 3600)) return { ok: false, error: 'seconds must be a number from 1 to 3600' };
          if (mode === 'hold_open') return { ok: true };
          unlock(s);
          // Remote release is for someone waiting at the door (a visitor at the intercom).
          if (o.behave && !open) ctx.after(ctx.rng.float(1, 3), () => !locked && !open && openFor(ctx.rng.float(3, 6), false));
          return { ok: true };
        }
        case 'LOCK':
          mode = 'normal';
          lockNow();
          return { ok: true };
        case 'HOLD_OPEN':
          mode = 'hold_open';
          held?.cancel();
          unlock();
          return { ok: true };
        case 'NORMAL':
          mode = 'normal';
          lockNow();
          return { ok: true };
        default:
          return { ok: false, error: `unknown op ${JSON.stringify(msg.op)}; expected UNLOCK, LOCK, HOLD_OPEN or NORMAL` };
      }
    };

    return {
      state: () => ({ mode, locked, open, door: o.door }),
      behave() {
        ctx.poisson(() => o.meanIntervalS / Math.max(activity(o.profile, ctx.clock.hour()), 0.01), arrival);
      },
      actions: {
        pass: (arg) => whenIdle('pass', () => grantedPassage(stringArg(arg, ctx.rng.pick(cards)), ctx.rng.float(3, 8))),
        force: (arg) => {
          const seconds = numberArg(arg, 8, 'force: seconds');
          whenIdle('force', () => openFor(seconds, true));
        },
        holdOpen: (arg) => {
          const seconds = numberArg(arg, 60, 'holdOpen: seconds');
          whenIdle('holdOpen', () => grantedPassage(ctx.rng.pick(cards), seconds));
        },
        deniedBurst: (arg) => {
          const n = Math.round(numberArg(arg, 5, 'deniedBurst: attempts'));
          const card = strangerCard(ctx.rng);
          const reason = ctx.rng.pick(reasons);
          deny(card, reason);
          let t = 0;
          for (let i = 1; i < n; i++) {
            t += ctx.rng.float(1.5, 4);
            ctx.after(t, () => deny(card, reason));
          }
        },
      },
      commands: [
        {
          suffix: 'control',
          handle: control,
          reply: (ref, r) => (r.ok ? { ref, result: 'OK' } : { ref, result: 'ERROR', msg: r.error }),
        },
      ],
    };
  },
});
