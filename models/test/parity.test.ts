import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, imageToInput } from '../src/image.ts';
import type { RgbImage } from '../src/image.ts';
import { loadModel, MODEL_NAMES, MODELS } from '../src/registry.ts';
import type { ModelRecord } from '../src/registry.ts';
import { compare, packageSampleImages, referenceFaceApi, referenceGraphModel, seededUniform, tfjsCpu } from './helpers.ts';

/**
 * ONNX (onnxruntime-node) against the TFJS model it came from (@tensorflow/tfjs, cpu backend), on the same
 * inputs: photos shipped in the npm packages and seeded random tensors over the model's input range.
 * The bound is on the largest difference relative to the largest output magnitude: float32 summation order
 * differs between the runtimes, nothing else should.
 */
const REL_BOUND = 1e-4;

let samples: RgbImage[] = [];
beforeAll(async () => {
  samples = await Promise.all(packageSampleImages().map(async (p) => decodeImage(await readFile(p))));
});

function inputsFor(record: ModelRecord): { label: string; data: Float32Array }[] {
  const n = record.input.shape.slice(1).reduce<number>((a, b) => a * (b as number), 1);
  const [lo, hi] = record.input.range;
  return [
    ...samples.map((img, i) => ({ label: `sample ${i}`, data: imageToInput(img, record.input) })),
    { label: 'random 1', data: seededUniform(n, lo, hi, 1) },
    { label: 'random 2', data: seededUniform(n, lo, hi, 2) },
  ];
}

/** Runs the reference; returns one Float32Array per ONNX output name. */
type Reference = (data: Float32Array, shape: number[]) => Promise<Record<string, Float32Array>>;

async function referenceFor(record: ModelRecord): Promise<{ run: Reference; dispose: () => void }> {
  const tf = await tfjsCpu();
  if (record.source.format === 'faceapi-recognition') {
    const net = await referenceFaceApi();
    return {
      run: async (data, shape) => {
        const x = tf.tensor4d(data, shape as [number, number, number, number]);
        const y = await net.forward(x);
        const out = { descriptor: y.dataSync() as Float32Array };
        tf.dispose([x, y]);
        return out;
      },
      dispose: () => undefined,
    };
  }
  const model = await referenceGraphModel(record);
  return {
    run: async (data, shape) => {
      const x = tf.tensor(data, shape);
      const result = model.execute(x, record.tfOutputs.map(([t]) => t));
      // TFJS hands back a bare tensor when one output is asked for.
      const ys = Array.isArray(result) ? result : [result];
      const out = Object.fromEntries(record.tfOutputs.map(([, name], i) => [name, ys[i]!.dataSync() as Float32Array]));
      tf.dispose([x, ...ys]);
      return out;
    },
    dispose: () => model.dispose(),
  };
}

describe.each(MODEL_NAMES)('%s: ONNX matches TFJS', (name) => {
  const record = MODELS[name];
  let session: ort.InferenceSession;
  let reference: Awaited<ReturnType<typeof referenceFor>>;
  beforeAll(async () => {
    session = await loadModel(name, { sessionOptions: { intraOpNumThreads: 1 } });
    reference = await referenceFor(record);
  });
  afterAll(async () => {
    reference?.dispose();
    await session?.release();
  });

  it('has the inputs and outputs the registry promises', () => {
    expect(session.inputNames).toEqual([record.input.name]);
    expect([...session.outputNames].sort()).toEqual(Object.keys(record.outputs).sort());
  });

  it('on package sample photos and random tensors', async () => {
    const shape = record.input.shape.map((d) => (d === 'batch' ? 1 : d));
    const worst: Record<string, number> = {};
    for (const { label, data } of inputsFor(record)) {
      const expected = await reference.run(data, shape);
      const actual = await session.run({ input: new ort.Tensor('float32', data, shape) });
      for (const out of Object.keys(record.outputs)) {
        const { rel } = compare(actual[out]!.data as Float32Array, expected[out]!);
        worst[out] = Math.max(worst[out] ?? 0, rel);
        expect(rel, `${out} on ${label}`).toBeLessThan(REL_BOUND);
      }
    }
    console.log(`${name} parity, worst max|diff| / max|ref| per output: ${JSON.stringify(worst)}`);
  });

  it.runIf(record.input.shape[0] === 'batch')('runs a batch of two exactly as two single runs', async () => {
    const single = record.input.shape.map((d) => (d === 'batch' ? 1 : d)) as number[];
    const n = single.reduce((a, b) => a * b, 1);
    const [lo, hi] = record.input.range;
    const a = seededUniform(n, lo, hi, 3);
    const b = seededUniform(n, lo, hi, 4);
    const both = new Float32Array(2 * n);
    both.set(a);
    both.set(b, n);
    const batch = await session.run({ input: new ort.Tensor('float32', both, [2, ...single.slice(1)]) });
    for (const [i, data] of [a, b].entries()) {
      const one = await session.run({ input: new ort.Tensor('float32', data, single) });
      for (const out of Object.keys(record.outputs)) {
        const per = (one[out]!.data as Float32Array).length;
        const slice = (batch[out]!.data as Float32Array).subarray(i * per, (i + 1) * per);
        expect(compare(slice, one[out]!.data as Float32Array).rel).toBeLessThan(REL_BOUND);
      }
    }
  });
});

it('every sample photo decodes', () => {
  expect(samples.length).toBeGreaterThanOrEqual(2);
  for (const s of samples) expect(s.data.length).toBe(s.width * s.height * 3);
  expect(path.basename(packageSampleImages()[0]!)).toBe('sample1.jpg');
});
