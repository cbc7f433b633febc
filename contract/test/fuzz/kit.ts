/**
 * Fuzzing kit shared by the fuzz suites of contract/, edge/ and hub/ (test code only; it imports nothing but
 * fast-check). Inputs are valid samples generated from the contract's own TypeBox schemas, then mutated the way
 * hostile or broken senders break them: types flipped, keys deleted or added (prototype-pollution keys included),
 * huge strings, deep nesting, odd unicode, NaN/Infinity in the raw text, truncated JSON, random bytes.
 *
 * Every suite prints `[fuzz] <name>: seed=<n> numRuns=<n>`; `WARDEN_FUZZ_SEED=<n>` replays a run with that seed
 * (and `WARDEN_FUZZ_RUNS=<n>` overrides the case count, e.g. for a long soak).
 */
import fc from 'fast-check';

export { fc };

export interface FuzzRun {
  seed: number;
  numRuns: number;
}

const envSeed = process.env.WARDEN_FUZZ_SEED;
// A fixed default seed keeps `npm test` (and CI's landing gate) reproducible; WARDEN_FUZZ_SEED=random explores new
// cases (a soak), WARDEN_FUZZ_SEED=<n> replays a printed failure.
const DEFAULT_SEED = 20_261_130;
const SEED = envSeed === 'random' ? (Math.random() * 2 ** 31) | 0 : envSeed !== undefined && envSeed !== '' ? Number(envSeed) : DEFAULT_SEED;
if (!Number.isInteger(SEED)) throw new Error(`WARDEN_FUZZ_SEED must be an integer, got ${envSeed}`);

/** The parameters of one fuzz property, printed so a failure can be replayed with WARDEN_FUZZ_SEED. */
export function fuzzRun(name: string, numRuns: number): FuzzRun {
  const override = Number(process.env.WARDEN_FUZZ_RUNS);
  const runs = Number.isInteger(override) && override > 0 ? override : numRuns;
  console.log(`[fuzz] ${name}: seed=${SEED} numRuns=${runs} (replay: WARDEN_FUZZ_SEED=${SEED})`);
  return { seed: SEED, numRuns: runs };
}

/** fast-check parameters for fc.assert: the run's seed and case count, no shrinking budget surprises. */
export function params(run: FuzzRun): fc.Parameters<unknown> {
  return { seed: run.seed, numRuns: run.numRuns, endOnFailure: true, markInterruptAsFailure: true, interruptAfterTimeLimit: 550_000 };
}

/** Fails a case that took longer than `ms` (a hang or a pathological slowdown on one input). */
export function timeBounded<T>(ms: number, fn: () => T): T {
  const t0 = performance.now();
  const out = fn();
  const took = performance.now() - t0;
  if (took > ms) throw new Error(`one input took ${took.toFixed(0)} ms (bound ${ms} ms)`);
  return out;
}

export async function timeBoundedAsync<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`one input did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), hang]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------- schema -> values

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;

const safeKey = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__');

function strArb(s: Schema): fc.Arbitrary<string> {
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = Math.max(min, Math.min(typeof s.maxLength === 'number' ? s.maxLength : min + 24, min + 24));
  if (typeof s.pattern === 'string') {
    try {
      const re = new RegExp(s.pattern);
      // stretched or cut to the length bounds rather than filtered (a filter retries, and most matches are short);
      // for the character-class patterns of the contract a repeated match still matches
      const maxLen = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
      return fc.stringMatching(re).map((v) => {
        const long = v.length === 0 || v.length >= min ? v : v.repeat(Math.ceil(min / v.length));
        return long.length > maxLen ? long.slice(0, maxLen) : long;
      });
    } catch {
      // an unsupported pattern: plain strings, most of which the validator refuses (still a useful input)
    }
  }
  if (s.format === 'date-time') return fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4102444800000) }).map((d) => d.toISOString());
  if (s.format === 'date') return fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4102444800000) }).map((d) => d.toISOString().slice(0, 10));
  return fc.string({ minLength: min, maxLength: max });
}

function numArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const clamp = (x: number) => Math.min(Math.max(x, -Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  const lo = clamp(typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + (integer ? 1 : 1e-9) : -1e6);
  const hi = clamp(typeof s.maximum === 'number' ? s.maximum : typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum - (integer ? 1 : 1e-9) : Math.max(lo + 1e6, 1e6));
  if (integer) {
    const [a, b] = [Math.ceil(lo), Math.floor(hi)];
    return b < a ? fc.constant(a) : fc.integer({ min: a, max: b });
  }
  return hi < lo ? fc.constant(lo) : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

/**
 * Values that (mostly) satisfy a TypeBox / JSON schema: the "valid sample" the mutations start from. Patterns go
 * through fast-check's stringMatching; what the generator cannot honour (formats, cross-field rules) simply yields
 * some invalid inputs, which is fine for a fuzzer.
 */
export function fromSchema(schema: unknown, depth = 0): fc.Arbitrary<Json> {
  // built once per schema (and depth): building one compiles its patterns, far too slow to redo inside a .chain
  if (schema === null || typeof schema !== 'object') return build(schema, depth);
  let byDepth = built.get(schema);
  if (!byDepth) built.set(schema, (byDepth = new Map()));
  let arb = byDepth.get(depth);
  if (!arb) byDepth.set(depth, (arb = build(schema, depth)));
  return arb;
}

const built = new WeakMap<object, Map<number, fc.Arbitrary<Json>>>();

function build(schema: unknown, depth: number): fc.Arbitrary<Json> {
  const s = (schema ?? {}) as Schema;
  if ('const' in s) return fc.constant(s.const as Json);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as Json[]));
  if (Array.isArray(s.anyOf)) return fc.oneof(...(s.anyOf as unknown[]).map((x) => fromSchema(x, depth + 1)));
  if (Array.isArray(s.oneOf)) return fc.oneof(...(s.oneOf as unknown[]).map((x) => fromSchema(x, depth + 1)));
  if (Array.isArray(s.allOf) && s.allOf.length) return fromSchema(s.allOf[0], depth + 1);
  if (depth > 8) return fc.constant(null);
  switch (s.type) {
    case 'string':
      return strArb(s);
    case 'integer':
      return numArb(s, true);
    case 'number':
      return numArb(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const min = typeof s.minItems === 'number' ? s.minItems : 0;
      const max = Math.max(min, Math.min(typeof s.maxItems === 'number' ? s.maxItems : 4, 4));
      if (Array.isArray(s.prefixItems)) return fc.tuple(...(s.prefixItems as unknown[]).map((x) => fromSchema(x, depth + 1))) as fc.Arbitrary<Json>;
      return fc.array(fromSchema(s.items, depth + 1), { minLength: min, maxLength: max });
    }
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const required = new Set((s.required ?? []) as string[]);
      const rec: Record<string, fc.Arbitrary<Json>> = {};
      for (const [k, v] of Object.entries(props)) rec[k] = fromSchema(v, depth + 1);
      const requiredKeys = Object.keys(props).filter((k) => required.has(k));
      let obj: fc.Arbitrary<Record<string, Json>> = fc.record(rec, { requiredKeys }) as fc.Arbitrary<Record<string, Json>>;
      const pp = s.patternProperties as Record<string, unknown> | undefined;
      if (pp && Object.keys(pp).length) {
        const [pattern, valueSchema] = Object.entries(pp)[0]!;
        const key = pattern === '^.*$' ? safeKey : fc.stringMatching(new RegExp(pattern)).filter((k) => k !== '__proto__' && k.length <= 32);
        const extra = fc.dictionary(key, fromSchema(valueSchema, depth + 1), { maxKeys: 3 });
        obj = fc.tuple(obj, extra).map(([a, b]) => ({ ...b, ...a }));
      }
      return obj as fc.Arbitrary<Json>;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  }
}

// ---------------------------------------------------------------------------------------------- mutations

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'];

/** Odd scalars: wrong types, edge numbers, odd strings. */
export const weirdScalar: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -0, -1, 1e308, -1e308, 5e-324, 2 ** 53, -(2 ** 53) - 2, '', ' ', '0', 'null', 'true', '\u0000', '\ud800', '\uffff', '👩‍👩‍👧', 'ﷺ', '\u202e'),
  fc.string({ unit: 'grapheme', maxLength: 16 }),
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant<Json>([]),
  fc.constant<Json>({}),
);

function paths(v: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = [], depth = 0): Array<Array<string | number>> {
  out.push(prefix);
  if (depth > 6 || v === null || typeof v !== 'object') return out;
  if (Array.isArray(v)) v.slice(0, 8).forEach((x, i) => paths(x, [...prefix, i], out, depth + 1));
  else for (const k of Object.keys(v).slice(0, 16)) paths(v[k]!, [...prefix, k], out, depth + 1);
  return out;
}

function setAt(root: Json, path: Array<string | number>, fn: (old: Json, parent: Json, key: string | number) => Json | undefined): Json {
  if (path.length === 0) return fn(root, null, '') ?? null;
  // copy only along the path (a full clone of a deeply nested sample would itself overflow the stack)
  const shallow = (v: Json): Record<string | number, Json> => (Array.isArray(v) ? ([...v] as unknown as Record<number, Json>) : { ...(v as Record<string, Json>) });
  const clone = shallow(root);
  let parent = clone;
  for (const k of path.slice(0, -1)) {
    const child = shallow(parent[k]!);
    parent[k] = child as unknown as Json;
    parent = child;
  }
  const key = path[path.length - 1]!;
  const next = fn(parent[key]!, parent as unknown as Json, key);
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else {
    Object.defineProperty(parent, key, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return clone as unknown as Json;
}

function nest(depth: number, leaf: Json, asObject: boolean): Json {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asObject ? { a: v } : [v];
  return v;
}

type Mutation = (v: Json, pick: number, extra: Json) => Json;

export const MUTATIONS: Mutation[] = [
  // replace a value by one of another type
  (v, pick, extra) => {
    const ps = paths(v);
    return setAt(v, ps[pick % ps.length]!, () => extra);
  },
  // delete a key / element
  (v, pick) => {
    const ps = paths(v).filter((p) => p.length > 0);
    return ps.length ? setAt(v, ps[pick % ps.length]!, () => undefined) : v;
  },
  // add a key, prototype-pollution keys included
  (v, pick, extra) => {
    const ps = paths(v).filter((p) => p.length === 0 || true);
    return setAt(v, ps[pick % ps.length]!, (old) => {
      if (old === null || typeof old !== 'object' || Array.isArray(old)) return old;
      const copy: Record<string, Json> = { ...old };
      const key = POLLUTION_KEYS[pick % POLLUTION_KEYS.length]!;
      Object.defineProperty(copy, pick % 2 ? key : `x${pick}`, { value: pick % 3 ? { polluted: true, isAdmin: true } : extra, enumerable: true, writable: true, configurable: true });
      return copy;
    });
  },
  // a huge string
  (v, pick) => {
    const ps = paths(v);
    return setAt(v, ps[pick % ps.length]!, () => 'A'.repeat(100_000 + (pick % 1000)));
  },
  // deep nesting
  (v, pick) => {
    const ps = paths(v);
    return setAt(v, ps[pick % ps.length]!, (old) => nest(50 + (pick % 550), old, pick % 2 === 0));
  },
  // a huge array
  (v, pick) => {
    const ps = paths(v);
    return setAt(v, ps[pick % ps.length]!, (old) => {
      const small = old === null || typeof old !== 'object' ? typeof old !== 'string' || old.length <= 200 : (JSON.stringify(old) ?? '').length <= 200;
      return Array.from({ length: 1_001 + (pick % 200) }, () => (small ? old : pick));
    });
  },
  // unicode strings
  (v, pick) => {
    const ps = paths(v);
    const odd = ['\ud800', '\udfff\ud800', '\u0000\u0001', 'Å\u030a', '\u202e\u2066', '𝕎𝕒𝕣𝕕𝕖𝕟', '%00', '../../etc/passwd', "'; DROP TABLE events;--"];
    return setAt(v, ps[pick % ps.length]!, (old) => (typeof old === 'string' ? old + odd[pick % odd.length] : odd[pick % odd.length]!));
  },
  // numbers at their limits
  (v, pick) => {
    const ps = paths(v);
    const odd = [-1, 0, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e300, -1e-300, 0.5, 1.0000001];
    return setAt(v, ps[pick % ps.length]!, (old) => (typeof old === 'number' ? old * odd[pick % odd.length]! : odd[pick % odd.length]!));
  },
];

/** A valid sample with one to three mutations applied. */
export function mutated(valid: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc
    .tuple(valid, fc.array(fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat(), weirdScalar), { minLength: 1, maxLength: 3 }))
    .map(([v, ms]) => ms.reduce<Json>((acc, [m, pick, extra]) => MUTATIONS[m]!(acc, pick, extra), v));
}

/** JSON text of a sample; one nested past what JSON.stringify's recursion takes becomes `null`. */
export function text(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return 'null';
  }
}

/** Text that is not quite JSON: truncated, NaN/Infinity literals, duplicate keys, a BOM, trailing garbage. */
function brokenText(valid: fc.Arbitrary<Json>): fc.Arbitrary<string> {
  return fc.tuple(valid, fc.nat(), fc.nat(6)).map(([v, cut, how]) => {
    const text = JSON.stringify(v) ?? 'null'; // samples from `valid` are shallow
    switch (how) {
      case 0:
        return text.slice(0, cut % (text.length + 1));
      case 1:
        return text.replace(/:(-?\d+(\.\d+)?)/, cut % 2 ? ':NaN' : ':Infinity');
      case 2:
        return text.startsWith('{') ? `{"__proto__":{"polluted":true},${text.slice(1)}` : text;
      case 3:
        return `\ufeff${text}`;
      case 4:
        return `${text}${text}`;
      case 5: {
        // nesting deeper than any value builder would make: JSON.parse must cope, and so must every validator after it
        const n = 2_000 + (cut % 8_000);
        return text.startsWith('{') && text.length > 2 ? `{"x":${'['.repeat(n)}${']'.repeat(n)},${text.slice(1)}` : `${'['.repeat(n)}${']'.repeat(n)}`;
      }
      default:
        return text.startsWith('{') && text.length > 2 ? `{"v":1,${text.slice(1)}`.replace(/}$/, ',"v":"1"}') : text;
    }
  });
}

/**
 * Raw payload bytes for a parser whose valid input is described by `valid`: a mix of valid samples, mutated samples,
 * broken JSON text, arbitrary JSON and random bytes.
 */
export function payloads(valid: fc.Arbitrary<Json>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 2, arbitrary: valid.map((v) => Buffer.from(text(v))) },
    { weight: 6, arbitrary: mutated(valid).map((v) => Buffer.from(text(v))) },
    { weight: 2, arbitrary: brokenText(valid).map((t) => Buffer.from(t)) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)) },
  );
}

/** Parsed values (not bytes) for parsers that take objects: valid, mutated, arbitrary JSON. */
export function values(valid: fc.Arbitrary<Json>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: 6, arbitrary: mutated(valid) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
  );
}

/** No pollution leaked out of a case: a parser that merged `__proto__` into a plain object would show here. */
export function assertNoPollution(): void {
  const probe = {} as Record<string, unknown>;
  if (probe.polluted !== undefined || probe.isAdmin !== undefined) throw new Error('Object.prototype was polluted');
}
