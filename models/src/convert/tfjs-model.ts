import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConvertError } from './errors.ts';

/** The parts of a TFJS `model.json` the converter reads (graph-model format, as written by tfjs-converter). */
export interface TfAttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: { dim?: { size: string | number }[]; unknownRank?: boolean };
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[] };
  tensor?: { dtype?: string; tensorShape?: { dim?: { size: string | number }[] } };
}
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
}
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}
export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}
export interface GraphModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: { node: TfNode[]; versions?: { producer?: number } };
  weightsManifest: WeightGroup[];
  signature?: {
    inputs?: Record<string, { name: string }>;
    outputs?: Record<string, { name: string }>;
  };
}

/** A constant tensor, dequantised to the dtype the TFJS loader would give it. */
export interface ConstTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface LoadedGraphModel {
  json: GraphModelJson;
  weights: Map<string, ConstTensor>;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

export async function readGraphModel(jsonPath: string): Promise<LoadedGraphModel> {
  const json = JSON.parse(await readFile(jsonPath, 'utf8')) as GraphModelJson;
  if (!json.modelTopology?.node) throw new ConvertError(`${jsonPath} is not a TFJS graph model (no modelTopology.node)`);
  const weights = await readWeights(json.weightsManifest ?? [], path.dirname(jsonPath));
  return { json, weights };
}

/** Reads the weight shards of a manifest (shards of one group are one byte stream) and decodes every weight. */
export async function readWeights(manifest: WeightGroup[], dir: string): Promise<Map<string, ConstTensor>> {
  const out = new Map<string, ConstTensor>();
  for (const group of manifest) {
    const shards = await Promise.all(group.paths.map((p) => readFile(path.join(dir, p))));
    const bytes = Buffer.concat(shards);
    let offset = 0;
    for (const spec of group.weights) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const stored = spec.quantization?.dtype ?? spec.dtype;
      const perElement = BYTES[stored];
      if (perElement === undefined) throw new ConvertError(`weight "${spec.name}" has unsupported dtype ${stored}`);
      const length = size * perElement;
      if (offset + length > bytes.length) throw new ConvertError(`weight shards end before weight "${spec.name}" (${group.paths.join(', ')})`);
      // Copy so every typed array is aligned and owns its bytes.
      const raw = new Uint8Array(bytes.subarray(offset, offset + length));
      out.set(spec.name, decodeWeight(spec, raw, size));
      offset += length;
    }
  }
  return out;
}

/** Dequantises as tfjs-core's io `decodeWeights` does: value = q * scale + min for uint8/uint16, exact float16 widening. */
export function decodeWeight(spec: WeightSpec, raw: Uint8Array, size: number): ConstTensor {
  const q = spec.quantization;
  const shape = [...spec.shape];
  if (!q) {
    const data = spec.dtype === 'int32' ? new Int32Array(raw.buffer, raw.byteOffset, size) : new Float32Array(raw.buffer, raw.byteOffset, size);
    return { dtype: spec.dtype, shape, data };
  }
  if (q.dtype === 'float16') {
    if (spec.dtype !== 'float32') throw new ConvertError(`weight "${spec.name}": float16 quantisation of ${spec.dtype} is not defined`);
    const halves = new Uint16Array(raw.buffer, raw.byteOffset, size);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = halfToFloat(halves[i]!);
    return { dtype: 'float32', shape, data };
  }
  if (q.scale === undefined || q.min === undefined) throw new ConvertError(`weight "${spec.name}": ${q.dtype} quantisation needs scale and min`);
  const ints = q.dtype === 'uint8' ? raw : new Uint16Array(raw.buffer, raw.byteOffset, size);
  const data = spec.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const v = ints[i]! * q.scale + q.min;
    data[i] = spec.dtype === 'int32' ? Math.round(v) : v;
  }
  return { dtype: spec.dtype, shape, data };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
