/**
 * The 1:N search kernel: scores[r] = dot(matrix row r, probe) for n rows of d floats, as WebAssembly SIMD
 * (f32x4). Plain JS tops out near 2 GFLOP/s here (about 2 ms for 30,000 x 128, and a loaded 2-core gateway
 * pushes its p99 past the 5 ms budget); the SIMD loop is several times faster. The module is a few dozen
 * bytes, assembled below instead of shipping a toolchain; `dotRowsJs` is the reference it is tested against
 * and the fallback where SIMD is missing or d is not a multiple of 4.
 */

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (l: number) => [0x0c, l],
  brIf: (l: number) => [0x0d, l],
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  geU: [0x4f],
  shl: [0x74],
  f32add: [0x92],
  f32store: [0x38, 0x02, 0x00],
  v128load: [0xfd, 0x00, 0x00, 0x00],
  v128zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  f32x4add: [0xfd, 0xe4, 0x01],
  f32x4mul: [0xfd, 0xe6, 0x01],
  lane: (l: number) => [0xfd, 0x1f, l],
};

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}
function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'utf8')];

// Params: 0 matrix, 1 probe, 2 n, 3 d (all byte offsets except n, d); locals: 5 r, 6 j, 7 row, 8 row bytes, 9-10 accumulators.
const body = [
  ...vec([[4, I32], [2, V128]]),
  ...op.get(3), ...op.i32(2), ...op.shl, ...op.set(8),
  ...op.get(0), ...op.set(7),
  ...op.i32(0), ...op.set(5),
  ...op.block, ...op.loop,
  ...op.get(5), ...op.get(2), ...op.geU, ...op.brIf(1),
  ...op.v128zero, ...op.set(9),
  ...op.v128zero, ...op.set(10),
  ...op.i32(0), ...op.set(6),
  ...op.block, ...op.loop,
  ...op.get(6), ...op.get(8), ...op.geU, ...op.brIf(1),
  // Two accumulators over 8 floats per step, so consecutive adds do not wait on each other.
  ...op.get(9),
  ...op.get(7), ...op.get(6), ...op.add, ...op.v128load,
  ...op.get(1), ...op.get(6), ...op.add, ...op.v128load,
  ...op.f32x4mul, ...op.f32x4add, ...op.set(9),
  ...op.get(10),
  ...op.get(7), ...op.get(6), ...op.add, ...op.i32(16), ...op.add, ...op.v128load,
  ...op.get(1), ...op.get(6), ...op.add, ...op.i32(16), ...op.add, ...op.v128load,
  ...op.f32x4mul, ...op.f32x4add, ...op.set(10),
  ...op.get(6), ...op.i32(32), ...op.add, ...op.set(6),
  ...op.br(0),
  ...op.end, ...op.end,
  ...op.get(9), ...op.get(10), ...op.f32x4add, ...op.set(9),
  ...op.get(4), ...op.get(5), ...op.i32(2), ...op.shl, ...op.add,
  ...op.get(9), ...op.lane(0),
  ...op.get(9), ...op.lane(1), ...op.f32add,
  ...op.get(9), ...op.lane(2), ...op.f32add,
  ...op.get(9), ...op.lane(3), ...op.f32add,
  ...op.f32store,
  ...op.get(7), ...op.get(8), ...op.add, ...op.set(7),
  ...op.get(5), ...op.i32(1), ...op.add, ...op.set(5),
  ...op.br(0),
  ...op.end, ...op.end,
  ...op.end,
];

const MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0x00]])),
  ...section(3, vec([[0x00]])),
  ...section(5, vec([[0x00, 0x01]])),
  ...section(7, vec([[...name('dot'), 0x00, 0x00], [...name('memory'), 0x02, 0x00]])),
  ...section(10, vec([[...uleb(body.length), ...body]])),
]);

/** Rows of d floats laid out in WebAssembly memory, scored against a probe in one call. */
export interface DotKernel {
  /** Current float views; re-read after ensureRows, which may move them. */
  matrix: Float32Array;
  scores: Float32Array;
  probe: Float32Array;
  readonly simd: boolean;
  /** Makes room for `rows` rows, keeping the matrix contents. */
  ensureRows(rows: number): void;
  /** scores[0..n) = matrix rows . probe */
  run(n: number): void;
}

export function dotRowsJs(matrix: Float32Array, probe: Float32Array, n: number, d: number, out: Float32Array): void {
  for (let r = 0, base = 0; r < n; r++, base += d) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let j = 0;
    for (; j + 3 < d; j += 4) {
      s0 += matrix[base + j]! * probe[j]!;
      s1 += matrix[base + j + 1]! * probe[j + 1]!;
      s2 += matrix[base + j + 2]! * probe[j + 2]!;
      s3 += matrix[base + j + 3]! * probe[j + 3]!;
    }
    for (; j < d; j++) s0 += matrix[base + j]! * probe[j]!;
    out[r] = s0 + s1 + s2 + s3;
  }
}

let compiled: WebAssembly.Module | null | undefined;
function wasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(MODULE);
    } catch {
      compiled = null; // no SIMD in this runtime: the JS loop serves
    }
  }
  return compiled;
}

const PAGE = 65536;

/** A kernel for d-float rows; `forceJs` picks the reference loop (tests and the benchmark's baseline). */
export function createDotKernel(d: number, capacity: number, forceJs = false): DotKernel {
  const mod = forceJs || d % 8 !== 0 ? null : wasmModule();
  if (!mod) {
    const k: DotKernel = {
      simd: false,
      matrix: new Float32Array(capacity * d),
      scores: new Float32Array(capacity),
      probe: new Float32Array(d),
      ensureRows(rows) {
        if (rows * d <= k.matrix.length) return;
        const cap = Math.max(rows, (k.matrix.length / d) * 2);
        const m = new Float32Array(cap * d);
        m.set(k.matrix);
        k.matrix = m;
        k.scores = new Float32Array(cap);
      },
      run(n) {
        dotRowsJs(k.matrix, k.probe, n, d, k.scores);
      },
    };
    return k;
  }
  const instance = new WebAssembly.Instance(mod, {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  const dot = instance.exports.dot as (m: number, p: number, n: number, d: number, o: number) => void;
  let cap = 0;
  // Layout: matrix from byte 0 (it only ever grows in place), then the probe, then the scores (scratch, moved freely).
  const k: DotKernel = {
    simd: true,
    matrix: new Float32Array(0),
    scores: new Float32Array(0),
    probe: new Float32Array(0),
    ensureRows(rows) {
      if (rows <= cap && k.matrix.length) return;
      const next = Math.max(rows, cap * 2, 16);
      const bytes = next * d * 4 + d * 4 + next * 4;
      if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
      cap = next;
      k.matrix = new Float32Array(memory.buffer, 0, cap * d);
      k.probe = new Float32Array(memory.buffer, cap * d * 4, d);
      k.scores = new Float32Array(memory.buffer, cap * d * 4 + d * 4, cap);
    },
    run(n) {
      dot(0, k.probe.byteOffset, n, d, k.scores.byteOffset);
    },
  };
  k.ensureRows(capacity);
  return k;
}
