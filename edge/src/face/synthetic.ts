/** Seeded random unit vectors (mulberry32) standing in for face templates in tests and benchmarks, so runs are reproducible. */
export function syntheticTemplates(n: number, d: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += (out[i * d + j] = rnd()) ** 2;
    for (let j = 0; j < d; j++) out[i * d + j]! /= Math.sqrt(norm);
  }
  return out;
}
