import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/build.ts';
import { convertGraphModel } from '../src/convert/convert.ts';
import { ConvertError, UnsupportedOpError } from '../src/convert/errors.ts';
import { decodeWeight } from '../src/convert/tfjs-model.ts';
import type { ConstTensor, GraphModelJson, TfAttrValue, TfNode, WeightSpec } from '../src/convert/tfjs-model.ts';
import { resizeBilinear } from '../src/image.ts';
import { compare, seededUniform, tfjsCpu, tfjsGraphModel } from './helpers.ts';

const s = (v: string): TfAttrValue => ({ s: Buffer.from(v).toString('base64') });
const list = (...v: number[]): TfAttrValue => ({ list: { i: v.map(String) } });
const strs = (...v: string[]): TfAttrValue => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } });
const F: TfAttrValue = { type: 'DT_FLOAT' };

/** A hand-written TF graph with its weights, in the model.json form TFJS loads and the converter reads. */
class TestGraph {
  readonly nodes: TfNode[] = [];
  readonly weights = new Map<string, ConstTensor>();
  private seed = 10;

  input(name: string, shape: number[]) {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: F, shape: { shape: { dim: shape.map((size) => ({ size: String(size) })) } } } });
    return name;
  }
  const(name: string, shape: number[], data?: number[], dtype: 'float32' | 'int32' = 'float32') {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = data ?? Array.from(seededUniform(n, -1, 1, this.seed++));
    this.weights.set(name, { dtype, shape, data: dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values) });
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } } });
    return name;
  }
  op(name: string, op: string, input: string[], attr: Record<string, TfAttrValue> = {}) {
    this.nodes.push({ name, op, input, attr: { T: F, ...attr } });
    return name;
  }
  json(order: 'as written' | 'reversed' = 'reversed'): GraphModelJson {
    const specs: WeightSpec[] = [...this.weights].map(([name, w]) => ({ name, shape: w.shape, dtype: w.dtype }));
    return {
      format: 'graph-model',
      modelTopology: { node: order === 'reversed' ? [...this.nodes].reverse() : this.nodes, versions: { producer: 1 } },
      weightsManifest: [{ paths: ['inline.bin'], weights: specs }],
    };
  }
  weightData(): ArrayBuffer {
    const parts = [...this.weights.values()].map((w) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength));
    const all = Buffer.concat(parts);
    return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  }
}

/** Exercises every op family the face models use and the layout corners none of them hit. */
function opsGraph(): { g: TestGraph; outputs: string[] } {
  const g = new TestGraph();
  const conv = (strides: number[], padding: string, extra: Record<string, TfAttrValue> = {}) => ({
    strides: list(...strides),
    padding: s(padding),
    data_format: s('NHWC'),
    dilations: list(1, 1, 1, 1),
    ...extra,
  });
  const x = g.input('x', [1, 8, 8, 4]);
  // Depthwise with channel multiplier 2; an even size at stride 2 makes SAME padding asymmetric.
  const dw = g.op('dw', 'DepthwiseConv2dNative', [x, g.const('dw/filter', [3, 3, 4, 2])], conv([1, 2, 2, 1], 'SAME'));
  const fused = g.op('fused', '_FusedConv2D', [dw, g.const('fused/filter', [3, 3, 8, 6]), g.const('fused/bias', [6]), g.const('fused/alpha', [6])], {
    ...conv([1, 1, 1, 1], 'SAME'),
    fused_ops: strs('BiasAdd', 'Prelu'),
    num_args: { i: '2' },
  });
  const ap = g.op('avg', 'AvgPool', [fused], { ksize: list(1, 3, 3, 1), strides: list(1, 2, 2, 1), padding: s('SAME'), data_format: s('NHWC') });
  const r6 = g.op('relu6', 'Relu6', [g.op('scale', 'Mul', [ap, g.const('six', [], [4])])]);
  const pd = g.op('pad', 'Pad', [r6, g.const('pad/paddings', [4, 2], [0, 0, 1, 0, 0, 1, 0, 0], 'int32')]);
  const mp = g.op('max', 'MaxPool', [pd], { ksize: list(1, 2, 2, 1), strides: list(1, 1, 1, 1), padding: s('VALID'), data_format: s('NHWC') });
  const cat = g.op('cat', 'ConcatV2', [mp, g.op('double', 'Mul', [mp, g.const('two', [], [2])]), g.const('cat/axis', [], [3], 'int32')]);
  const sub = g.op('sub', 'Sub', [cat, g.const('offsets', [12])]);
  const mean = g.op('mean', 'Mean', [sub, g.const('mean/axes', [2], [1, 2], 'int32')], { keep_dims: { b: true } });
  const rs = g.op('rsqrt', 'Rsqrt', [g.op('plus1', 'AddV2', [g.op('square', 'Square', [mean]), g.const('one', [], [1])])]);
  const sq = g.op('squeeze', 'Squeeze', [rs], { squeeze_dims: list(1, 2) });
  const mm = g.op('fc', '_FusedMatMul', [sq, g.const('fc/w', [12, 5]), g.const('fc/b', [5])], {
    fused_ops: strs('BiasAdd', 'Relu'),
    num_args: { i: '1' },
    transpose_a: { b: false },
    transpose_b: { b: false },
  });
  const softmax = g.op('softmax', 'Softmax', [mm]);
  const flat = g.op('flat', 'Reshape', [mp, g.const('flat/shape', [2], [1, -1], 'int32')]);
  const sum = g.op('sum', 'Sum', [flat, g.const('sum/axes', [1], [1], 'int32')], { keep_dims: { b: false } });
  const explicit = g.op('explicit', 'Conv2D', [x, g.const('explicit/filter', [2, 2, 4, 3])], conv([1, 1, 1, 1], 'EXPLICIT', { explicit_paddings: list(0, 0, 1, 2, 2, 1, 0, 0) }));
  const leaky = g.op('leaky', 'LeakyRelu', [explicit], { alpha: { f: 0.1 } });
  const dilated = g.op('dilated', 'Conv2D', [x, g.const('dilated/filter', [3, 3, 4, 2])], conv([1, 1, 1, 1], 'VALID', { dilations: list(1, 2, 2, 1) }));
  const hw = g.op('hw_mean', 'Mean', [g.op('biased', 'BiasAdd', [dilated, g.const('dilated/bias', [2])], { data_format: s('NHWC') }), g.const('hw/axes', [2], [1, 2], 'int32')], { keep_dims: { b: false } });
  // Reducing H alone leaves [N, W, C], whose order differs from what is left of NCHW.
  const hOnly = g.op('h_mean', 'Mean', [fused, g.const('h/axes', [1], [1], 'int32')], { keep_dims: { b: false } });
  return { g, outputs: [softmax, sum, leaky, hw, hOnly] };
}

describe('converter', () => {
  it('matches TFJS on a graph exercising every op family, with nodes listed out of order', async () => {
    const tf = await tfjsCpu();
    const { g, outputs } = opsGraph();
    const json = g.json('reversed');
    expect(json.modelTopology.node[0]!.op).not.toBe('Placeholder');
    const converted = convertGraphModel(json, g.weights, { outputs: outputs.map((o) => [o, o]) });
    const session = await ort.InferenceSession.create(converted.bytes);
    const reference = await tfjsGraphModel(json, g.weightData());
    try {
      for (const seed of [1, 2, 3]) {
        const data = seededUniform(8 * 8 * 4, -2, 2, seed);
        const x = tf.tensor(data, [1, 8, 8, 4]);
        const refs = reference.execute(x, outputs) as import('@tensorflow/tfjs').Tensor[];
        const actual = await session.run({ x: new ort.Tensor('float32', data, [1, 8, 8, 4]) });
        for (const [i, o] of outputs.entries()) {
          expect(actual[o]!.dims).toEqual(refs[i]!.shape);
          expect(compare(actual[o]!.data as Float32Array, refs[i]!.dataSync()).rel, `${o}, seed ${seed}`).toBeLessThan(1e-5);
        }
        tf.dispose([x, ...refs]);
      }
    } finally {
      reference.dispose();
      await session.release();
    }
  });

  it('refuses an unsupported op, naming the op and the node', () => {
    const g = new TestGraph();
    const x = g.input('x', [1, 4]);
    g.op('postprocess/nms', 'NonMaxSuppressionV5', [x]);
    const convert = () => convertGraphModel(g.json(), g.weights, { outputs: [['postprocess/nms', 'y']] });
    expect(convert).toThrow(UnsupportedOpError);
    expect(convert).toThrow(/unsupported TF op "NonMaxSuppressionV5".*node "postprocess\/nms"/);
  });

  it('reports a constant without weight data, a missing input and a cycle as ConvertError', () => {
    const g = new TestGraph();
    const x = g.input('x', [1, 4]);
    g.nodes.push({ name: 'orphan', op: 'Const' });
    g.op('y', 'Add', [x, 'orphan']);
    expect(() => convertGraphModel(g.json(), g.weights, { outputs: [['y', 'y']] })).toThrow(/constant has no data.*"orphan"/);

    const h = new TestGraph();
    h.op('y', 'Relu', ['nowhere']);
    expect(() => convertGraphModel(h.json(), h.weights, { outputs: [['y', 'y']] })).toThrow(/input "nowhere" does not exist/);

    const c = new TestGraph();
    c.op('a', 'Relu', ['b']);
    c.op('b', 'Relu', ['a']);
    expect(() => convertGraphModel(c.json(), c.weights, { outputs: [['a', 'a']] })).toThrow(ConvertError);
  });

  it('dequantises uint8 and float16 weights exactly as the TFJS loader', async () => {
    const tf = await tfjsCpu();
    const bytes = new Uint8Array(64);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 11) & 0xff;
    const specs: WeightSpec[] = [
      { name: 'q8', shape: [16], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.0123, min: -1.5 } },
      { name: 'f16', shape: [24], dtype: 'float32', quantization: { dtype: 'float16' } },
    ];
    const reference = tf.io.decodeWeights(bytes.buffer.slice(0), specs as never);
    const q8 = decodeWeight(specs[0]!, bytes.subarray(0, 16), 16);
    const f16 = decodeWeight(specs[1]!, new Uint8Array(bytes.subarray(16, 64)), 24);
    expect(Array.from(q8.data)).toEqual(Array.from(reference.q8!.dataSync()));
    expect(Array.from(f16.data)).toEqual(Array.from(reference.f16!.dataSync()));
    tf.dispose(Object.values(reference));
  });
});

describe('preprocessing', () => {
  it('bilinear resize equals tf.image.resizeBilinear (align corners off, half-pixel centres off)', async () => {
    const tf = await tfjsCpu();
    const img = { width: 37, height: 23, data: Uint8Array.from(seededUniform(37 * 23 * 3, 0, 256, 5), Math.floor) };
    for (const [h, w] of [[64, 64], [10, 17]] as const) {
      const t = tf.tensor3d(Float32Array.from(img.data), [23, 37, 3]);
      const ref = tf.image.resizeBilinear(t, [h, w], false, false);
      expect(compare(resizeBilinear(img, h, w), ref.dataSync()).maxAbs).toBeLessThan(1e-3);
      tf.dispose([t, ref]);
    }
  });
});

describe('build', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('builds once, then skips while the output is newer than its inputs, and rebuilds on force', async () => {
    const buildDir = await mkdtemp(path.join(os.tmpdir(), 'warden-models-'));
    dirs.push(buildDir);
    const first = await buildModel('liveness', { buildDir });
    expect(first.built).toBe(true);
    expect(first.path).toBe(path.join(buildDir, 'liveness.onnx'));
    const again = await buildModel('liveness', { buildDir });
    expect(again.built).toBe(false);
    expect(again.bytes).toBe(first.bytes);
    expect((await buildModel('liveness', { buildDir, force: true })).built).toBe(true);
    const session = await ort.InferenceSession.create(first.path);
    expect(session.inputNames).toEqual(['input']);
    await session.release();
  });
});
