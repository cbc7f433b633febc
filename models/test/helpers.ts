import { existsSync } from 'node:fs';
import path from 'node:path';
import { MODELS_ROOT, packageDir } from '../src/paths.ts';

export { referenceFaceApi, referenceGraphModel, tfjsCpu, tfjsGraphModel } from '../src/reference.ts';

/** Deterministic pseudo-random floats in [lo, hi) (mulberry32), so a failing input can be reproduced. */
export function seededUniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

/** Largest absolute difference, and that difference relative to the largest reference magnitude. */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>): { maxAbs: number; rel: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return { maxAbs, rel: scale === 0 ? maxAbs : maxAbs / scale };
}

/** Sample photos shipped inside the npm packages, so parity runs on real images on every machine. */
export function packageSampleImages(): string[] {
  const faceApi = path.join(packageDir('@vladmandic/face-api'), 'demo');
  const human = path.join(packageDir('@vladmandic/human'), 'assets');
  return [path.join(faceApi, 'sample1.jpg'), path.join(faceApi, 'sample6.jpg'), path.join(human, 'screenshot-faceid.jpg')].filter((p) => existsSync(p));
}

/** Labelled face crops: `<repo>/../shared/faces` (present on developer machines and in CI, maybe not elsewhere), or WARDEN_FACES_DIR. */
export const FACES_DIR = process.env.WARDEN_FACES_DIR ? path.resolve(process.env.WARDEN_FACES_DIR) : path.resolve(MODELS_ROOT, '..', '..', 'shared', 'faces');
