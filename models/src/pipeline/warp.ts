import type { RgbImage } from '../image.ts';

/** A 2-D affine map p' = [a b; c d] p + [tx ty]. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  tx: number;
  ty: number;
}

export interface Point {
  x: number;
  y: number;
}

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m.a * p.x + m.b * p.y + m.tx, y: m.c * p.x + m.d * p.y + m.ty };
}

/**
 * Samples `img` into a width x height float RGB buffer (0..255, HWC) where output pixel (u, v) reads the
 * source at `destToSrc(u, v)`, bilinearly, zeros outside (the zero padding Human and face-api use).
 * One routine serves detection (scale + shift: TF's resize sampling) and alignment (similarity transform).
 */
export function warpAffine(img: RgbImage, destToSrc: Affine, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  const { a, b, c, d, tx, ty } = destToSrc;
  const W = img.width;
  const H = img.height;
  const src = img.data;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const sx = a * u + b * v + tx;
      const sy = c * u + d * v + ty;
      const o = (v * width + u) * 3;
      if (sx < 0 || sy < 0 || sx > W - 1 + 0.999 || sy > H - 1 + 0.999) continue;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, W - 1);
      const y1 = Math.min(y0 + 1, H - 1);
      const dx = sx - x0;
      const dy = sy - y0;
      const i00 = (y0 * W + x0) * 3;
      const i01 = (y0 * W + x1) * 3;
      const i10 = (y1 * W + x0) * 3;
      const i11 = (y1 * W + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = src[i00 + ch]! + (src[i01 + ch]! - src[i00 + ch]!) * dx;
        const bottom = src[i10 + ch]! + (src[i11 + ch]! - src[i10 + ch]!) * dx;
        out[o + ch] = top + (bottom - top) * dy;
      }
    }
  }
  return out;
}

/**
 * Least-squares similarity transform (rotation, uniform scale, shift; no reflection) taking `from` onto `to`
 * (Umeyama's closed form for 2-D). Returned as the map from `from` space to `to` space.
 */
export function similarityTransform(from: readonly Point[], to: readonly Point[]): Affine {
  if (from.length !== to.length || from.length < 2) throw new Error('similarityTransform needs at least two matching points');
  const n = from.length;
  let fx = 0, fy = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i]!.x; fy += from[i]!.y; tx += to[i]!.x; ty += to[i]!.y;
  }
  fx /= n; fy /= n; tx /= n; ty /= n;
  // With complex numbers z = x + iy the best map is to = s * from + t with s = sum(conj(f) * t) / sum(|f|^2).
  let re = 0, im = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const ax = from[i]!.x - fx, ay = from[i]!.y - fy;
    const bx = to[i]!.x - tx, by = to[i]!.y - ty;
    re += ax * bx + ay * by;
    im += ax * by - ay * bx;
    norm += ax * ax + ay * ay;
  }
  if (norm === 0) throw new Error('similarityTransform: source points coincide');
  const a = re / norm;
  const b = im / norm;
  return { a, b: -b, c: b, d: a, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

export function invertAffine(m: Affine): Affine {
  const det = m.a * m.d - m.b * m.c;
  if (det === 0) throw new Error('affine map is not invertible');
  const a = m.d / det, b = -m.b / det, c = -m.c / det, d = m.a / det;
  return { a, b, c, d, tx: -(a * m.tx + b * m.ty), ty: -(c * m.tx + d * m.ty) };
}
