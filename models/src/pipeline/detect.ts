import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image.ts';
import { MODELS } from '../registry.ts';
import type { ModelRunner } from './pipeline.ts';
import { applyAffine, warpAffine, type Affine, type Point } from './warp.ts';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One detected face in source-image pixels. Keypoints in MediaPipe's order: right eye, left eye (the subject's), nose tip, mouth centre, right ear, left ear. */
export interface Detection {
  box: Box;
  keypoints: Point[];
  score: number;
}

export interface DetectOptions {
  /** Minimum face probability (default 0.5; Human uses 0.2 for display, a door wants fewer ghosts). */
  minScore?: number;
  /** Overlap above which two boxes are one face (default 0.3). */
  iouThreshold?: number;
  /**
   * Tile side in source pixels for large frames (default: off below 640 px, else about a third of the
   * shorter side). Blazeface sees 256x256: a 60-pixel face in a 1366-wide group photo shrinks to 11
   * pixels on a whole-frame pass, below what it detects; tiles keep such faces large enough.
   */
  tile?: number | false;
}

const INPUT = 256;
const spec = MODELS.blazeface.input;

/** Anchor centres in input pixels: stride 16 (16x16, 2 per cell), then stride 32 (8x8, 6 per cell) — 896 in the models' output order. */
const ANCHORS: Float32Array = (() => {
  const out: number[] = [];
  for (const [stride, per] of [[16, 2], [32, 6]] as const) {
    const grid = INPUT / stride;
    for (let y = 0; y < grid; y++) for (let x = 0; x < grid; x++) for (let k = 0; k < per; k++) out.push(stride * (x + 0.5), stride * (y + 0.5));
  }
  return Float32Array.from(out);
})();

function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.width * a.height + b.width * b.height - inter;
  return union <= 0 ? 0 : inter / union;
}

/** Intersection over the smaller box: catches a face cut by a tile edge inside the whole-face box of another tile. */
function containment(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const small = Math.min(a.width * a.height, b.width * b.height);
  return small <= 0 ? 0 : (ix * iy) / small;
}

/**
 * MediaPipe's weighted NMS: overlapping candidates are averaged (weighted by score) instead of keeping only
 * the best, which steadies boxes and keypoints between frames and across tiles.
 */
export function weightedNms(candidates: Detection[], iouThreshold: number): Detection[] {
  const rest = [...candidates].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  while (rest.length) {
    const top = rest[0]!;
    const group = rest.filter((d) => iou(top.box, d.box) > iouThreshold || containment(top.box, d.box) > 0.7);
    const remaining = rest.filter((d) => !group.includes(d));
    // Average only those agreeing closely with the best; others in the group (partial tile cuts) are dropped.
    const close = group.filter((d) => iou(top.box, d.box) > 0.5);
    const w = close.reduce((s, d) => s + d.score, 0);
    const avg = (f: (d: Detection) => number) => close.reduce((s, d) => s + f(d) * d.score, 0) / w;
    kept.push({
      box: { x: avg((d) => d.box.x), y: avg((d) => d.box.y), width: avg((d) => d.box.width), height: avg((d) => d.box.height) },
      keypoints: top.keypoints.map((_, k) => ({ x: avg((d) => d.keypoints[k]!.x), y: avg((d) => d.keypoints[k]!.y) })),
      score: top.score,
    });
    rest.splice(0, rest.length, ...remaining);
  }
  return kept;
}

/** Square windows (source pixels) blazeface is run on: the whole frame padded to a square, plus overlapping tiles on large frames. */
export function detectionWindows(width: number, height: number, tile: number | false | undefined): { x: number; y: number; size: number }[] {
  const side = Math.max(width, height);
  const windows = [{ x: (width - side) / 2, y: (height - side) / 2, size: side }];
  const t = tile === undefined ? (Math.min(width, height) >= 640 ? Math.round(Math.min(width, height) / 2.5) : false) : tile;
  if (t === false || t >= side) return windows;
  const step = t / 2;
  const xs = width <= t ? [(width - t) / 2] : Array.from({ length: Math.ceil((width - t) / step) + 1 }, (_, i) => Math.min(i * step, width - t));
  const ys = height <= t ? [(height - t) / 2] : Array.from({ length: Math.ceil((height - t) / step) + 1 }, (_, i) => Math.min(i * step, height - t));
  for (const y of ys) for (const x of xs) windows.push({ x, y, size: t });
  return windows;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Runs blazeface over the frame (and tiles) and returns faces in source pixels, best first. */
export async function detectFaces(session: ModelRunner, img: RgbImage, options: DetectOptions = {}): Promise<Detection[]> {
  const minScore = options.minScore ?? 0.5;
  const candidates: Detection[] = [];
  for (const w of detectionWindows(img.width, img.height, options.tile)) {
    const s = w.size / INPUT;
    const toSrc: Affine = { a: s, b: 0, c: 0, d: s, tx: w.x, ty: w.y };
    const data = warpAffine(img, toSrc, INPUT, INPUT);
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * spec.scale + spec.offset;
    const out = await session.run({ input: new ort.Tensor('float32', data, [1, INPUT, INPUT, 3]) });
    const scores = [out.scores_16!.data as Float32Array, out.scores_32!.data as Float32Array];
    const regs = [out.regressors_16!.data as Float32Array, out.regressors_32!.data as Float32Array];
    let anchor = 0;
    for (let part = 0; part < 2; part++) {
      const sc = scores[part]!;
      const rg = regs[part]!;
      for (let i = 0; i < sc.length; i++, anchor++) {
        const p = sigmoid(sc[i]!);
        if (p < minScore) continue;
        const ax = ANCHORS[anchor * 2]!;
        const ay = ANCHORS[anchor * 2 + 1]!;
        const r = i * 16;
        const cx = ax + rg[r]!;
        const cy = ay + rg[r + 1]!;
        const bw = rg[r + 2]!;
        const bh = rg[r + 3]!;
        if (!(bw > 0 && bh > 0)) continue;
        const tl = applyAffine(toSrc, { x: cx - bw / 2, y: cy - bh / 2 });
        const keypoints: Point[] = [];
        for (let k = 0; k < 6; k++) keypoints.push(applyAffine(toSrc, { x: ax + rg[r + 4 + 2 * k]!, y: ay + rg[r + 5 + 2 * k]! }));
        candidates.push({ box: { x: tl.x, y: tl.y, width: bw * s, height: bh * s }, keypoints, score: p });
      }
    }
  }
  return weightedNms(candidates, options.iouThreshold ?? 0.3);
}
