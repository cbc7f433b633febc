import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { GraphModelJson, WeightSpec } from '../src/convert/tfjs-model.ts';
import { MODELS_ROOT, packageDir } from '../src/paths.ts';
import type { ModelRecord } from '../src/registry.ts';

/** The reference: TFJS with its pure-JS cpu backend (tfjs-node cannot install offline). */
export async function tfjsCpu(): Promise<typeof tf> {
  if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  return tf;
}

/** A TFJS GraphModel from an in-memory model.json and weight bytes, through TFJS's own loader. */
export async function tfjsGraphModel(json: GraphModelJson, weightData: ArrayBuffer): Promise<tf.GraphModel> {
  await tfjsCpu();
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy ?? null,
      signature: json.signature,
    }),
  };
  return tf.loadGraphModel(handler);
}

/** The TFJS model a registry record was converted from, loaded from the pinned npm package. */
export async function referenceGraphModel(record: ModelRecord): Promise<tf.GraphModel> {
  const dir = packageDir(record.source.package);
  const json = JSON.parse(await readFile(path.join(dir, record.source.files[0]!), 'utf8')) as GraphModelJson;
  const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, path.dirname(record.source.files[0]!), p))));
  const bytes = Buffer.concat(shards);
  return tfjsGraphModel(json, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

interface FaceApiModule {
  tf: typeof tf;
  nets: { faceRecognitionNet: { loadFromWeightMap(map: tf.NamedTensorMap): void; forward(input: tf.Tensor4D): Promise<tf.Tensor2D> } };
}

/** face-api's own FaceRecognitionNet (its Node build over @tensorflow/tfjs), with the package's weights. */
export async function referenceFaceApi(): Promise<FaceApiModule['nets']['faceRecognitionNet']> {
  await tfjsCpu();
  const require = createRequire(import.meta.url);
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiModule;
  const dir = path.join(packageDir('@vladmandic/face-api'), 'model');
  const manifest = JSON.parse(await readFile(path.join(dir, 'face_recognition_model-weights_manifest.json'), 'utf8')) as { paths: string[]; weights: WeightSpec[] }[];
  const bytes = Buffer.concat(await Promise.all(manifest.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, p)))));
  const weightMap = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[]);
  const net = faceapi.nets.faceRecognitionNet;
  net.loadFromWeightMap(weightMap);
  return net;
}

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
