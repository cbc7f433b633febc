import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image.ts';
import { loadModel, MODELS, type LoadModelOptions } from '../registry.ts';
import { detectFaces, type Box, type DetectOptions } from './detect.ts';
import { assessQuality, laplacianVariance, type Quality, type QualityOptions } from './quality.ts';
import { invertAffine, similarityTransform, warpAffine, type Affine, type Point } from './warp.ts';

export type Recogniser = 'faceapi-recognition' | 'faceres';

/**
 * What the pipeline needs of a model: an ONNX Runtime session has this shape; so does the TFJS reference
 * wrapper (models/src/reference.ts), which lets the benchmark time the same pipeline on TFJS.
 */
export interface ModelRunner {
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}

/**
 * Where the right eye, left eye (image left to right), nose tip and mouth centre land in a 150x150 crop:
 * the mean blazeface keypoints over the labelled 150x150 crops in ../shared/faces (39 of 40 detected), which
 * are face-api's own recognition crops, so aligned live faces look like what the recogniser was fed there.
 */
export const CANONICAL_150: readonly Point[] = Object.freeze([
  { x: 53.1, y: 45.6 },
  { x: 98.2, y: 46.0 },
  { x: 72.4, y: 77.3 },
  { x: 73.5, y: 96.7 },
]);

export interface Liveness {
  /** antispoof: probability the face is real, not a photo or screen (0..1). */
  real: number;
  /** liveness model: Human's reported score (element 0 of its output, 0..1). */
  live: number;
}

export interface FaceResult {
  box: Box;
  /** Six keypoints in source pixels: right eye, left eye, nose, mouth, right ear, left ear. */
  keypoints: Point[];
  score: number;
  quality: Quality;
  liveness: Liveness | null;
  /** L2-normalised descriptor (cosine similarity = dot product); null when the face failed the quality gate and embedRejected is off. */
  embedding: Float32Array | null;
}

export interface FacePipelineOptions {
  /** Which recogniser makes embeddings (default faceapi-recognition: see models/README.md for the measured comparison). */
  recogniser?: Recogniser;
  /** Run antispoof and liveness on each face (default true). */
  liveness?: boolean;
  /** ONNX Runtime intra-op threads per session (default 1: a gateway runs other work, and 2 threads barely help at batch 1). */
  threads?: number;
  buildDir?: string;
  detect?: DetectOptions;
  quality?: QualityOptions;
}

export interface AnalyseOptions {
  /** Keep at most this many faces, largest first (default all). */
  maxFaces?: number;
  /** Also embed faces that failed the quality gate (default false; enrolment tools and the CLI turn it on). */
  embedRejected?: boolean;
  /** Score antispoof/liveness for this frame (default: whenever the pipeline loaded those models); a point that does not check them skips the cost. */
  liveness?: boolean;
}

function l2normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  n = Math.sqrt(n) || 1;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

function scaleInput(data: Float32Array, scale: number, offset: number): Float32Array {
  if (scale !== 1 || offset !== 0) for (let i = 0; i < data.length; i++) data[i] = data[i]! * scale + offset;
  return data;
}

/**
 * Detection -> alignment -> quality gate -> antispoof/liveness -> embedding, on ONNX Runtime. Shared by the
 * hub (enrolment) and the edge (decisions) so both compute templates the same way.
 */
export class FacePipeline {
  readonly recogniser: Recogniser;
  readonly dimensions: number;
  private readonly cropSize: number;

  private constructor(
    private readonly detector: ModelRunner,
    private readonly embedder: ModelRunner,
    private readonly antispoof: ModelRunner | null,
    private readonly liveness: ModelRunner | null,
    private readonly options: FacePipelineOptions,
  ) {
    this.recogniser = options.recogniser ?? 'faceapi-recognition';
    this.cropSize = MODELS[this.recogniser].input.shape[1] as number;
    this.dimensions = this.recogniser === 'faceres' ? 1024 : 128;
  }

  static async create(options: FacePipelineOptions = {}): Promise<FacePipeline> {
    const threads = options.threads ?? 1;
    const load: LoadModelOptions = { buildDir: options.buildDir, sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } };
    const withLiveness = options.liveness ?? true;
    const [detector, embedder, antispoof, liveness] = await Promise.all([
      loadModel('blazeface', load),
      loadModel(options.recogniser ?? 'faceapi-recognition', load),
      withLiveness ? loadModel('antispoof', load) : null,
      withLiveness ? loadModel('liveness', load) : null,
    ]);
    return new FacePipeline(detector, embedder, antispoof, liveness, options);
  }

  /** A pipeline over given model runners (the benchmark's TFJS reference); create() is the normal way. */
  static fromRunners(runners: { detector: ModelRunner; embedder: ModelRunner; antispoof?: ModelRunner; liveness?: ModelRunner }, options: FacePipelineOptions = {}): FacePipeline {
    return new FacePipeline(runners.detector, runners.embedder, runners.antispoof ?? null, runners.liveness ?? null, options);
  }

  /** Every face in a frame, largest first. */
  async analyse(img: RgbImage, options: AnalyseOptions = {}): Promise<FaceResult[]> {
    const detections = (await detectFaces(this.detector, img, this.options.detect)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    const faces = detections.slice(0, options.maxFaces ?? detections.length);
    const results: FaceResult[] = [];
    for (const d of faces) {
      const crop = this.alignedCrop(img, d.keypoints);
      // Sharpness is measured at one crop size whatever the recogniser, so one threshold means the same blur.
      const grey = this.cropSize === 150 ? crop : this.alignedCrop(img, d.keypoints, 150);
      const quality = assessQuality(d.keypoints, d.score, laplacianVariance(grey, 150, 150), this.options.quality);
      const embedding = quality.ok || options.embedRejected ? await this.embedAligned(crop) : null;
      const liveness = this.antispoof && this.liveness && options.liveness !== false ? await this.livenessOf(img, d.box) : null;
      results.push({ box: d.box, keypoints: d.keypoints, score: d.score, quality, liveness, embedding });
    }
    return results;
  }

  /**
   * Embeds an image that is already a face crop (enrolment photos cut like the labelled crops). The crop
   * is still detected and aligned when blazeface finds a face, so enrolment and live frames go the same way;
   * otherwise the whole image is used as is.
   */
  async embedCrop(img: RgbImage): Promise<Float32Array> {
    const [face] = await this.analyse(img, { maxFaces: 1, embedRejected: true });
    if (face?.embedding) return face.embedding;
    const m: Affine = { a: img.width / this.cropSize, b: 0, c: 0, d: img.height / this.cropSize, tx: 0, ty: 0 };
    return this.embedAligned(warpAffine(img, m, this.cropSize, this.cropSize));
  }

  /** The recogniser's input crop: a similarity transform taking the eyes, nose and mouth onto the canonical positions. */
  alignedCrop(img: RgbImage, keypoints: readonly Point[], size = this.cropSize): Float32Array {
    const k = size / 150;
    const [a, b] = keypoints[0]!.x <= keypoints[1]!.x ? [keypoints[0]!, keypoints[1]!] : [keypoints[1]!, keypoints[0]!];
    const from = [a, b, keypoints[2]!, keypoints[3]!];
    const to = CANONICAL_150.map((p) => ({ x: p.x * k, y: p.y * k }));
    return warpAffine(img, invertAffine(similarityTransform(from, to)), size, size);
  }

  private async embedAligned(crop: Float32Array): Promise<Float32Array> {
    const spec = MODELS[this.recogniser].input;
    const data = scaleInput(Float32Array.from(crop), spec.scale, spec.offset);
    const out = await this.embedder.run({ input: new ort.Tensor('float32', data, [1, this.cropSize, this.cropSize, 3]) });
    return l2normalise(out.descriptor!.data as Float32Array);
  }

  private async livenessOf(img: RgbImage, box: Box): Promise<Liveness> {
    const side = Math.max(box.width, box.height);
    const x = box.x + box.width / 2 - side / 2;
    const y = box.y + box.height / 2 - side / 2;
    const run = async (session: ModelRunner, name: 'antispoof' | 'liveness') => {
      const spec = MODELS[name].input;
      const size = spec.shape[1] as number;
      const data = scaleInput(warpAffine(img, { a: side / size, b: 0, c: 0, d: side / size, tx: x, ty: y }, size, size), spec.scale, spec.offset);
      return session.run({ input: new ort.Tensor('float32', data, [1, size, size, 3]) });
    };
    const [a, l] = await Promise.all([run(this.antispoof!, 'antispoof'), run(this.liveness!, 'liveness')]);
    return { real: (a.real!.data as Float32Array)[0]!, live: (l.probabilities!.data as Float32Array)[0]! };
  }

  async close(): Promise<void> {
    await Promise.all([this.detector.release(), this.embedder.release(), this.antispoof?.release(), this.liveness?.release()]);
  }
}

/** Cosine similarity of two L2-normalised embeddings. */
export function similarity(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}
