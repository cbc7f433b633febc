import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, imageToInput } from '../src/image.ts';
import { loadModel, MODELS } from '../src/registry.ts';
import type { ModelName } from '../src/registry.ts';
import { FACES_DIR } from './helpers.ts';

/**
 * Sanity check on real, labelled faces: a working recogniser puts crops of one person closer together
 * than crops of different people. Needs ../shared/faces (8 people x 5 crops); skipped, saying so, without it.
 */
const haveFaces = existsSync(FACES_DIR);
const title = (s: string) => (haveFaces ? s : `SKIPPED, ${FACES_DIR} is missing: ${s}`);
if (!haveFaces) console.warn(`recognition sanity tests skipped: labelled face photos not found at ${FACES_DIR}`);

interface Crop {
  person: string;
  file: string;
}

function crops(): Crop[] {
  return readdirSync(FACES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(path.join(FACES_DIR, d.name))
        .filter((f) => f.endsWith('.png'))
        .sort()
        .map((f) => ({ person: d.name, file: path.join(FACES_DIR, d.name, f) })),
    );
}

function euclidean(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

describe.each(['faceapi-recognition', 'faceres'] as const)('%s separates identities', (name: ModelName) => {
  const record = MODELS[name];
  let session: ort.InferenceSession;
  let embedded: { person: string; descriptor: Float32Array }[] = [];

  beforeAll(async () => {
    if (!haveFaces) return;
    session = await loadModel(name);
    const shape = record.input.shape.map((d) => (d === 'batch' ? 1 : d));
    for (const c of crops()) {
      const data = imageToInput(decodeImage(await readFile(c.file)), record.input);
      const out = await session.run({ input: new ort.Tensor('float32', data, shape) });
      embedded.push({ person: c.person, descriptor: Float32Array.from(out.descriptor!.data as Float32Array) });
    }
  });
  afterAll(async () => {
    await session?.release();
    embedded = [];
  });

  it.skipIf(!haveFaces)(title('same-person cosine similarity is higher than different-person on average, and 1-NN mostly finds the right person'), () => {
    expect(embedded.length).toBeGreaterThanOrEqual(10);
    let same = 0;
    let sameN = 0;
    let diff = 0;
    let diffN = 0;
    let correct = 0;
    for (const [i, a] of embedded.entries()) {
      let best = { sim: -Infinity, person: '' };
      for (const [j, b] of embedded.entries()) {
        if (i === j) continue;
        const sim = cosine(a.descriptor, b.descriptor);
        if (a.person === b.person) {
          same += sim;
          sameN++;
        } else {
          diff += sim;
          diffN++;
        }
        if (sim > best.sim) best = { sim, person: b.person };
      }
      if (best.person === a.person) correct++;
    }
    const accuracy = correct / embedded.length;
    console.log(`${name}: mean cosine same ${(same / sameN).toFixed(3)}, different ${(diff / diffN).toFixed(3)}, leave-one-out 1-NN ${(accuracy * 100).toFixed(1)} % of ${embedded.length}`);
    if (name === 'faceapi-recognition') {
      // dlib's own decision rule, for whoever sets the enrolment threshold.
      const pairs = embedded.flatMap((a, i) => embedded.slice(i + 1).map((b) => ({ same: a.person === b.person, d: euclidean(a.descriptor, b.descriptor) })));
      const sameUnder = pairs.filter((p) => p.same && p.d < 0.6).length / pairs.filter((p) => p.same).length;
      const diffOver = pairs.filter((p) => !p.same && p.d >= 0.6).length / pairs.filter((p) => !p.same).length;
      console.log(`${name}: at Euclidean 0.6, ${(sameUnder * 100).toFixed(1)} % of same-person pairs match, ${(diffOver * 100).toFixed(1)} % of different-person pairs are rejected`);
    }
    expect(same / sameN).toBeGreaterThan(diff / diffN);
    expect(accuracy).toBeGreaterThan(0.5);
  });
});
