import type { InferenceSession } from 'onnxruntime-node';
import { CONVERTER_VERSION } from './convert/convert.ts';

export type ModelName = 'blazeface' | 'faceres' | 'faceapi-recognition' | 'antispoof' | 'liveness';

/**
 * How to feed a model. Every input is NHWC float32 RGB (as TFJS fed it), so a pixel p in 0..255
 * becomes p * scale + offset; `resize` is what the upstream library does before that.
 */
export interface InputSpec {
  name: 'input';
  shape: readonly (number | 'batch')[];
  layout: 'NHWC';
  colour: 'RGB';
  scale: number;
  offset: number;
  range: readonly [number, number];
  preprocessing: string;
}

export interface ModelRecord {
  name: ModelName;
  task: 'face-detector' | 'face-descriptor' | 'anti-spoofing' | 'liveness';
  summary: string;
  /** Where the weights come from: an exact npm package version (checked at build time) and the files in it. */
  source: {
    package: string;
    version: string;
    files: readonly string[];
    /** 'tfjs-graph': a TFJS graph model converted as is; 'faceapi-recognition': face-api's weights + its architecture (faceapi-graph.ts). */
    format: 'tfjs-graph' | 'faceapi-recognition';
    packageLicence: string;
  };
  upstream: { project: string; url: string; licence: string; notes: string };
  input: InputSpec;
  /** ONNX output name -> meaning. */
  outputs: Readonly<Record<string, string>>;
  /** [TF node, ONNX output] pairs, in the order above. */
  tfOutputs: readonly (readonly [string, string])[];
  /** TF name of the input placeholder. */
  tfInput: string;
  converterVersion: string;
}

const HUMAN = { package: '@vladmandic/human', version: '3.3.6', packageLicence: 'MIT (Vladimir Mandic)' } as const;
const FACE_API = { package: '@vladmandic/face-api', version: '1.7.15', packageLicence: 'MIT (Vladimir Mandic; face-api.js by Vincent Mühler)' } as const;

const records: ModelRecord[] = [
  {
    name: 'blazeface',
    task: 'face-detector',
    summary: 'MediaPipe BlazeFace (full-range "back" variant, 256x256): 896 anchors, a score logit plus box and 6 keypoints per anchor.',
    source: { ...HUMAN, files: ['models/blazeface.json', 'models/blazeface.bin'], format: 'tfjs-graph' },
    upstream: {
      project: 'Google MediaPipe BlazeFace',
      url: 'https://github.com/google/mediapipe',
      licence: 'Apache-2.0',
      notes: 'TFJS conversion by Vladimir Mandic for Human (generatedBy google/mediapipe in model.json).',
    },
    input: {
      name: 'input',
      shape: [1, 256, 256, 3],
      layout: 'NHWC',
      colour: 'RGB',
      scale: 1 / 127.5,
      offset: -1,
      range: [-1, 1],
      preprocessing: 'whole frame (Human pads it to a square first) bilinear-resized to 256x256, then p / 127.5 - 1',
    },
    outputs: {
      scores_16: '[1, 512, 1] score logits (sigmoid -> probability) for the stride-16 grid: 16x16 cells x 2 anchors',
      regressors_16: '[1, 512, 16] per anchor, in input pixels: box centre dx, dy, width, height, then 6 keypoints (x, y) relative to the anchor centre',
      scores_32: '[1, 384, 1] score logits for the stride-32 grid: 8x8 cells x 6 anchors',
      regressors_32: '[1, 384, 16] as regressors_16 for the stride-32 grid',
    },
    tfOutputs: [
      ['Identity', 'scores_16'],
      ['Identity_2', 'regressors_16'],
      ['Identity_1', 'scores_32'],
      ['Identity_3', 'regressors_32'],
    ],
    tfInput: 'input',
    converterVersion: CONVERTER_VERSION,
  },
  {
    name: 'faceres',
    task: 'face-descriptor',
    summary: 'HSE FaceRes (MobileNet-based multi-task net): 1024-D face descriptor, gender and age from one 224x224 face crop.',
    source: { ...HUMAN, files: ['models/faceres.json', 'models/faceres.bin'], format: 'tfjs-graph' },
    upstream: {
      project: 'HSE_FaceRec_tf (Andrey Savchenko, HSE University)',
      url: 'https://github.com/HSE-asavchenko/HSE_FaceRec_tf',
      licence: 'not verified here: upstream repository not reachable from this machine; redistributed inside @vladmandic/human (MIT)',
      notes: 'Weights stored as float16 in the package; widened to float32 exactly as the TFJS loader does.',
    },
    input: {
      name: 'input',
      shape: ['batch', 224, 224, 3],
      layout: 'NHWC',
      colour: 'RGB',
      scale: 1,
      offset: 0,
      range: [0, 255],
      preprocessing: 'face crop (Human: the facemesh-aligned box) bilinear-resized to 224x224, raw 0..255 values',
    },
    outputs: {
      descriptor: '[N, 1024] face descriptor (compare with cosine similarity)',
      gender: '[N, 1] sigmoid; Human reports > 0.5 as male',
      age: '[N, 100] softmax over age bins of 1 year',
    },
    tfOutputs: [
      ['global_pooling/Mean', 'descriptor'],
      ['gender_pred/Sigmoid', 'gender'],
      ['age_pred/Softmax', 'age'],
    ],
    tfInput: 'input_1',
    converterVersion: CONVERTER_VERSION,
  },
  {
    name: 'faceapi-recognition',
    task: 'face-descriptor',
    summary: "dlib's ResNet face descriptor as ported by face-api.js: 128-D descriptor from a 150x150 face crop (99.38 % on LFW per dlib).",
    source: {
      ...FACE_API,
      files: ['model/face_recognition_model-weights_manifest.json', 'model/face_recognition_model.bin', 'src/faceRecognitionNet/FaceRecognitionNet.ts'],
      format: 'faceapi-recognition',
    },
    upstream: {
      project: "dlib dlib_face_recognition_resnet_model_v1 (Davis King), ported to TFJS by face-api.js",
      url: 'https://github.com/davisking/dlib-models',
      licence: 'model weights released into the public domain by their author; face-api.js code MIT',
      notes: 'Weights uint8-quantised in the package and dequantised exactly as the TFJS loader does (q * scale + min); the ONNX includes face-api\'s mean-RGB subtraction and / 255.',
    },
    input: {
      name: 'input',
      shape: ['batch', 150, 150, 3],
      layout: 'NHWC',
      colour: 'RGB',
      scale: 1,
      offset: 0,
      range: [0, 255],
      preprocessing: 'face crop padded to a square (face-api centres it, zero fill) and bilinear-resized to 150x150, raw 0..255 values; normalisation is inside the model',
    },
    outputs: { descriptor: '[N, 128] face descriptor; face-api/dlib match when Euclidean distance < 0.6' },
    tfOutputs: [['descriptor', 'descriptor']],
    tfInput: 'input',
    converterVersion: CONVERTER_VERSION,
  },
  {
    name: 'antispoof',
    task: 'anti-spoofing',
    summary: 'Small CNN scoring a 128x128 face crop as real (1) or a presented photo/screen (0).',
    source: { ...HUMAN, files: ['models/antispoof.json', 'models/antispoof.bin'], format: 'tfjs-graph' },
    upstream: {
      project: 'fake-face-detection (Kaggle notebook by anku420)',
      url: 'https://www.kaggle.com/anku420/fake-face-detection',
      licence: 'not verified here (Kaggle notebook); redistributed inside @vladmandic/human (MIT)',
      notes: 'Human reports the output as face.real.',
    },
    input: {
      name: 'input',
      shape: ['batch', 128, 128, 3],
      layout: 'NHWC',
      colour: 'RGB',
      scale: 1 / 255,
      offset: 0,
      range: [0, 1],
      preprocessing: 'face crop bilinear-resized to 128x128, p / 255',
    },
    outputs: { real: '[N, 1] sigmoid: probability the face is real' },
    tfOutputs: [['Identity', 'real']],
    tfInput: 'conv2d_input',
    converterVersion: CONVERTER_VERSION,
  },
  {
    name: 'liveness',
    task: 'liveness',
    summary: 'LivenessNet: tiny CNN on a 32x32 face crop, softmax over two classes.',
    source: { ...HUMAN, files: ['models/liveness.json', 'models/liveness.bin'], format: 'tfjs-graph' },
    upstream: {
      project: 'livenessnet (leokwu)',
      url: 'https://github.com/leokwu/livenessnet',
      licence: 'not verified here: upstream repository not reachable from this machine; redistributed inside @vladmandic/human (MIT)',
      notes: 'Human reports element 0 of the output as face.live.',
    },
    input: {
      name: 'input',
      shape: ['batch', 32, 32, 3],
      layout: 'NHWC',
      colour: 'RGB',
      scale: 1 / 255,
      offset: 0,
      range: [0, 1],
      preprocessing: 'face crop bilinear-resized to 32x32, p / 255',
    },
    outputs: { probabilities: '[N, 2] softmax; Human reports element 0 as its liveness score' },
    tfOutputs: [['Identity', 'probabilities']],
    tfInput: 'conv2d_1_input',
    converterVersion: CONVERTER_VERSION,
  },
];

/** Every model this workspace builds, by name. */
export const MODELS: Readonly<Record<ModelName, Readonly<ModelRecord>>> = Object.freeze(Object.fromEntries(records.map((r) => [r.name, Object.freeze(r)])) as Record<ModelName, ModelRecord>);

export const MODEL_NAMES = Object.freeze(records.map((r) => r.name));

export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

export function modelRecord(name: string): Readonly<ModelRecord> {
  if (!isModelName(name)) throw new Error(`unknown model "${name}"; known: ${MODEL_NAMES.join(', ')}`);
  return MODELS[name];
}

export interface LoadModelOptions {
  /** Folder of built models (default: WARDEN_MODELS_DIR or models/build). */
  buildDir?: string;
  /** Passed to onnxruntime-node, e.g. { intraOpNumThreads: 1 }. */
  sessionOptions?: InferenceSession.SessionOptions;
}

/** An ONNX Runtime session for a model, building its .onnx first when missing or stale. */
export async function loadModel(name: ModelName, options: LoadModelOptions = {}): Promise<InferenceSession> {
  // Imported lazily: build.ts reads the records from this module, a static import would make a cycle.
  const [{ buildModel }, ort] = await Promise.all([import('./build.ts'), import('onnxruntime-node')]);
  const { path } = await buildModel(name, { buildDir: options.buildDir });
  return ort.InferenceSession.create(path, options.sessionOptions ?? {});
}
