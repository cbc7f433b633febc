import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Type from 'typebox';
import { commonOptions, defineDevice, stringArg, type CommandOutcome } from '../device.ts';
import { DormNightSchema, dormNightProblems, planDormNight, secondsToCurfew } from '../dorm-night.ts';

// The field broker's default packet limit is 256 KiB and base64 adds a third: larger photos would be dropped.
const MAX_IMAGE_BYTES = 190 * 1024;
const IMAGE = /\.(jpe?g|png)$/i;

/**
 * A face terminal at a door, dorm entrance or junction. It sends real face photos from a folder as captures
 * (the gateway decides: edge/src/face/), presents a card now and then as the alternative, and obeys
 * unlock/lock for its own lock. Without a folder it only presents cards and obeys commands.
 */
export const faceTerminal = defineDevice({
  type: 'face-terminal',
  kind: 'face_terminal',
  prefix: 'face',
  description: 'face recognition terminal sending real face photos (JPEG/PNG from a folder) or a card',
  options: Type.Object(
    {
      ...commonOptions,
      images: Type.String({ default: '', description: 'folder of JPEG/PNG face photos sent as captures, in name order, round robin (empty: cards only)' }),
      cards: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, default: ['0000000001'], description: 'card numbers the terminal reads' }),
      captureS: Type.Number({ minimum: 1, default: 60, description: 'mean time between presentations, simulated seconds' }),
      cardShare: Type.Number({ minimum: 0, maximum: 1, default: 0.2, description: 'share of presentations made with a card instead of a face' }),
      // A dorm check-in point playing its share of a dorm night (src/dorm-night.ts) instead of random presentations.
      night: Type.Optional(DormNightSchema),
    },
    { additionalProperties: false },
  ),
  actions: {
    capture: 'send a face capture: arg = an image file name in the folder, or a path (default: the next image)',
    card: 'present a card: arg = card number (default: one of the configured cards)',
  },
  create(ctx, o) {
    const files = o.images
      ? readdirSync(o.images)
          .filter((f) => IMAGE.test(f))
          .sort()
          .map((f) => path.join(o.images, f))
      : [];
    let next = 0;
    let captures = 0;
    let unlocked = 0;
    let lastFile = '';
    // Dorm night: the building's plan, computed identically by each of its points; this one plays its own crossings.
    const nightProblems = o.night ? dormNightProblems(o.night, ctx.id) : [];
    if (nightProblems.length > 0) throw new Error(`${ctx.id}: ${nightProblems.join('; ')}`);
    const plan = o.night ? planDormNight(o.night) : undefined;
    const night = { played: 0, skipped: 0, offline: false, curfewInS: 0 };

    const capture = (file: string): void => {
      const size = statSync(file).size;
      if (size > MAX_IMAGE_BYTES) throw new Error(`${file} is ${size} bytes; captures must stay under ${MAX_IMAGE_BYTES} (field broker packet limit)`);
      lastFile = path.basename(file);
      captures++;
      ctx.publish(ctx.topic('capture'), { image: readFileSync(file).toString('base64'), ref: `cap-${captures}`, t: Date.now() });
    };
    const nextImage = (): string => {
      if (files.length === 0) throw new Error('capture: no images (set the images option to a folder of JPEG/PNG face photos)');
      return files[next++ % files.length]!;
    };
    const card = (c: string): void => ctx.publish(ctx.topic('capture'), { card: c, t: Date.now() });

    const control = (msg: Record<string, unknown>): CommandOutcome => {
      if (msg.op === 'UNLOCK') {
        unlocked++;
        return { ok: true };
      }
      if (msg.op === 'LOCK') return { ok: true };
      return { ok: false, error: `unknown op ${JSON.stringify(msg.op)}` };
    };

    return {
      state: () => ({ images: files.length, captures, unlocked, lastFile, ...(plan ? { night: { ...night, summary: plan.summary } } : {}) }),
      behave() {
        if (plan && o.night) {
          const toCurfew = secondsToCurfew(o.night, ctx.clock);
          night.curfewInS = Math.round(toCurfew);
          // The outage first: a crossing due at the very moment the point fails is stored, not sent.
          const out = plan.outage;
          if (out?.point === ctx.id && toCurfew + out.to > 0) {
            ctx.after(Math.max(0, toCurfew + out.from), () => {
              night.offline = true;
              ctx.log.info({ seconds: out.to - out.from }, 'dorm night: check-in point fails (disconnects)');
              ctx.dropOff();
            });
            ctx.after(toCurfew + out.to, () => {
              night.offline = false;
              ctx.log.info('dorm night: check-in point back; delivering what it stored');
              void ctx.comeBack();
            });
          }
          for (const c of plan.crossings) {
            if (c.point !== ctx.id) continue;
            const wait = toCurfew + c.at;
            // A crossing already in the past when the simulator starts is not played: it cannot be made on time.
            if (wait < 0) {
              night.skipped++;
              continue;
            }
            ctx.after(wait, () => {
              night.played++;
              card(c.card);
            });
          }
          return;
        }
        ctx.poisson(
          () => o.captureS,
          () => {
            if (files.length === 0 || ctx.rng.chance(o.cardShare)) card(ctx.rng.pick(o.cards));
            else capture(nextImage());
          },
        );
      },
      actions: {
        capture: (arg) => {
          const name = stringArg(arg, '');
          if (!name) return capture(nextImage());
          const file = path.isAbsolute(name) || !o.images ? name : path.join(o.images, name);
          capture(file);
        },
        card: (arg) => card(stringArg(arg, ctx.rng.pick(o.cards))),
      },
      commands: [{ suffix: 'control', handle: control, reply: (ref, r) => (r.ok ? { ref, ok: true } : { ref, ok: false, err: r.error }) }],
    };
  },
});
