import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { GraphModelJson, WeightSpec } from './convert/tfjs-model.ts';
import { packageDir } from './paths.ts';
import { MODELS, type ModelName, type ModelRecord } from './registry.ts';
import type { ModelRunner } from './pipeline/pipeline.ts';

/*
 * The TFJS models the ONNX files were converted from, for parity tests and for the benchmark's
 * side-by-side timing. @tensorflow/tfjs is a dev dependency: import this module only from tests and benchmarks.
 */

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

/**
 * A TFJS reference model behind the same `run(feeds)` shape the pipeline calls on ONNX Runtime sessions, so
 * the whole pipeline (same pre- and post-processing) can run on TFJS for a like-for-like timing.
 */
export async function referenceRunner(name: ModelName): Promise<ModelRunner> {
  const record = MODELS[name];
  const tfjs = await tfjsCpu();
  if (record.source.format === 'faceapi-recognition') {
    const net = await referenceFaceApi();
    return {
      run: async (feeds) => {
        const input = feeds.input!;
        const x = tfjs.tensor4d(input.data as Float32Array, input.dims as [number, number, number, number]);
        const y = await net.forward(x);
        const out = { descriptor: { data: y.dataSync() as Float32Array } };
        tfjs.dispose([x, y]);
        return out;
      },
      release: async () => undefined,
    };
  }
  const model = await referenceGraphModel(record);
  return {
    run: async (feeds) => {
      const input = feeds.input!;
      const x = tfjs.tensor(input.data as Float32Array, [...input.dims]);
      const result = model.execute(x, record.tfOutputs.map(([t]) => t));
      const ys = Array.isArray(result) ? result : [result];
      const out = Object.fromEntries(record.tfOutputs.map(([, n], i) => [n, { data: ys[i]!.dataSync() as Float32Array }]));
      tfjs.dispose([x, ...ys]);
      return out;
    },
    release: async () => model.dispose(),
  };
}
