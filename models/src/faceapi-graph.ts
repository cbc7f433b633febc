import type { ConstTensor, GraphModelJson, TfAttrValue, TfNode, WeightGroup } from './convert/tfjs-model.ts';
import { ConvertError } from './convert/errors.ts';

/**
 * face-api.js ships its 128-D recognition net (a ResNet-34-like port of dlib's face descriptor) as named
 * weights only; the architecture lives in its source (src/faceRecognitionNet/*.ts of @vladmandic/face-api).
 * This writes that architecture out as a TFJS graph over those weights, so the same converter turns it
 * into ONNX. Op order and constants follow face-api's `forwardInput` exactly, for bit-level parity:
 *   x - meanRgb, / 255 -> convDown(7x7/2) -> maxPool(3/2) -> 3 x residual(32) -> residualDown(64) + 3 x residual
 *   -> residualDown(128) + 2 x residual -> residualDown(256) + 2 x residual -> residualDown(256)
 *   -> mean over H, W -> matMul(fc).
 */

export const FACEAPI_INPUT_SIZE = 150;
/** face-api's FaceRecognitionNet.forwardInput: `normalize(batch, [122.782, 117.001, 104.298]).div(255)`. */
export const FACEAPI_MEAN_RGB = [122.782, 117.001, 104.298] as const;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const ints = (...v: number[]): TfAttrValue => ({ list: { i: v.map(String) } });

export function faceApiRecognitionGraph(manifest: WeightGroup[]): { json: GraphModelJson; constants: Map<string, ConstTensor> } {
  const known = new Set(manifest.flatMap((g) => g.weights.map((w) => w.name)));
  const nodes: TfNode[] = [];
  const constants = new Map<string, ConstTensor>();
  const node = (name: string, op: string, input: string[], attr: Record<string, TfAttrValue> = {}) => {
    nodes.push({ name, op, input, attr });
    return name;
  };
  const weight = (name: string) => {
    if (!known.has(name)) throw new ConvertError(`face-api weights manifest has no "${name}"`);
    return node(name, 'Const', []);
  };
  const constant = (name: string, t: ConstTensor) => {
    constants.set(name, t);
    return node(name, 'Const', []);
  };
  const paddings = (name: string, p: number[][]) => constant(name, { dtype: 'int32', shape: [p.length, 2], data: Int32Array.from(p.flat()) });

  const input = node('input', 'Placeholder', [], { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [-1, FACEAPI_INPUT_SIZE, FACEAPI_INPUT_SIZE, 3].map((size) => ({ size: String(size) })) } } });
  const mean = constant('normalize/mean_rgb', { dtype: 'float32', shape: [3], data: Float32Array.from(FACEAPI_MEAN_RGB) });
  const v255 = constant('normalize/255', { dtype: 'float32', shape: [], data: Float32Array.of(255) });
  let x = node('normalize/div', 'RealDiv', [node('normalize/sub', 'Sub', [input, mean]), v255]);
  let size = FACEAPI_INPUT_SIZE;
  let channels = 3;

  /** conv -> + bias -> * scale.weights -> + scale.biases [-> relu], as face-api's convLayer. */
  const convLayer = (from: string, prefix: string, stride: number, relu: boolean, padding: 'SAME' | 'VALID', kernel: number) => {
    const filters = `${prefix}/conv/filters`;
    let y = node(`${prefix}/conv`, 'Conv2D', [from, weight(filters)], {
      strides: ints(1, stride, stride, 1),
      padding: { s: b64(padding) },
      data_format: { s: b64('NHWC') },
      dilations: ints(1, 1, 1, 1),
    });
    y = node(`${prefix}/bias_add`, 'Add', [y, weight(`${prefix}/conv/bias`)]);
    y = node(`${prefix}/scale_mul`, 'Mul', [y, weight(`${prefix}/scale/weights`)]);
    y = node(`${prefix}/scale_add`, 'Add', [y, weight(`${prefix}/scale/biases`)]);
    const out = padding === 'VALID' ? Math.floor((size - kernel) / stride) + 1 : Math.ceil(size / stride);
    return { y: relu ? node(`${prefix}/relu`, 'Relu', [y]) : y, size: out };
  };
  const outChannels = (prefix: string) => manifest.flatMap((g) => g.weights).find((w) => w.name === `${prefix}/conv/filters`)!.shape[3]!;

  const residual = (prefix: string) => {
    const a = convLayer(x, `${prefix}/conv1`, 1, true, 'SAME', 3);
    const b = convLayer(a.y, `${prefix}/conv2`, 1, false, 'SAME', 3);
    x = node(`${prefix}/relu`, 'Relu', [node(`${prefix}/add`, 'Add', [b.y, x])]);
  };

  const residualDown = (prefix: string) => {
    const a = convLayer(x, `${prefix}/conv1`, 2, true, 'VALID', 3);
    const sizeAfter = a.size;
    let out = convLayer(a.y, `${prefix}/conv2`, 1, false, 'SAME', 3).y;
    let pooled = node(`${prefix}/avg_pool`, 'AvgPool', [x], {
      ksize: ints(1, 2, 2, 1),
      strides: ints(1, 2, 2, 1),
      padding: { s: b64('VALID') },
      data_format: { s: b64('NHWC') },
    });
    const pooledSize = Math.floor((size - 2) / 2) + 1;
    const cout = outChannels(`${prefix}/conv1`);
    // face-api appends one zero row and one zero column when the strided conv came out one smaller than the pool.
    if (pooledSize !== sizeAfter) {
      if (pooledSize - sizeAfter !== 1) throw new ConvertError(`${prefix}: pool ${pooledSize} vs conv ${sizeAfter} is not face-api's one-pixel case`);
      out = node(`${prefix}/pad_hw`, 'Pad', [out, paddings(`${prefix}/pad_hw/paddings`, [[0, 0], [0, 1], [0, 1], [0, 0]])]);
    }
    // ... and zero channels to the pooled shortcut when the block widens.
    if (cout !== channels) pooled = node(`${prefix}/pad_c`, 'Pad', [pooled, paddings(`${prefix}/pad_c/paddings`, [[0, 0], [0, 0], [0, 0], [0, cout - channels]])]);
    x = node(`${prefix}/relu`, 'Relu', [node(`${prefix}/add`, 'Add', [pooled, out])]);
    size = pooledSize;
    channels = cout;
  };

  const first = convLayer(x, 'conv32_down', 2, true, 'VALID', 7);
  x = first.y;
  size = first.size;
  channels = outChannels('conv32_down');
  x = node('max_pool', 'MaxPool', [x], { ksize: ints(1, 3, 3, 1), strides: ints(1, 2, 2, 1), padding: { s: b64('VALID') }, data_format: { s: b64('NHWC') } });
  size = Math.floor((size - 3) / 2) + 1;

  for (const block of ['conv32_1', 'conv32_2', 'conv32_3']) residual(block);
  residualDown('conv64_down');
  for (const block of ['conv64_1', 'conv64_2', 'conv64_3']) residual(block);
  residualDown('conv128_down');
  for (const block of ['conv128_1', 'conv128_2']) residual(block);
  residualDown('conv256_down');
  for (const block of ['conv256_1', 'conv256_2']) residual(block);
  residualDown('conv256_down_out');

  const axes = constant('global_avg/axes', { dtype: 'int32', shape: [2], data: Int32Array.of(1, 2) });
  const avg = node('global_avg', 'Mean', [x, axes], { keep_dims: { b: false } });
  node('descriptor', 'MatMul', [avg, weight('fc')], { transpose_a: { b: false }, transpose_b: { b: false } });

  return {
    json: { format: 'graph-model', generatedBy: '@warden/models faceapi-graph', modelTopology: { node: nodes }, weightsManifest: manifest },
    constants,
  };
}
