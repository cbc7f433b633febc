import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Type from 'typebox';
import { commonOptions, defineDevice, stringArg, type CommandOutcome } from '../device.ts';

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
      state: () => ({ images: files.length, captures, unlocked, lastFile }),
      behave() {
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
