import Type, { type Static } from 'typebox';

export const FaceSection = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'run face decisions on this gateway (needs face-terminal devices and a gallery)' }),
    gallery: Type.String({
      minLength: 1,
      default: 'data/face-gallery.bin',
      description: 'encrypted gallery file (AES-256-GCM), relative to the config file; created empty when missing',
    }),
    galleryKey: Type.Optional(Type.String({ minLength: 32, description: 'gallery key: 64 hex characters or base64 of 32 bytes (prefer galleryKeyFile)' })),
    galleryKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the gallery key, relative to the config file' })),
    recogniser: Type.Union([Type.Literal('faceapi-recognition'), Type.Literal('faceres')], {
      default: 'faceapi-recognition',
      description: 'face descriptor model; templates from one recogniser never match another’s',
    }),
    threads: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'ONNX Runtime threads per model' }),
    maxQueue: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 16,
      description: 'captures waiting for a decision; beyond this new captures are refused (counted) rather than decided late',
    }),
  },
  { additionalProperties: false, default: {}, description: 'face recognition at the edge (issue 3)' },
);
export type FaceConfig = Static<typeof FaceSection>;

/**
 * Default match threshold per recogniser (cosine similarity of L2-normalised descriptors), from
 * ../shared/faces: with faceapi-recognition the closest different-person crop pair scored 0.919 and the
 * lowest same-person pair 0.87, so 0.92 admits no false accept there at some cost in false rejects; a point
 * sets its own `threshold` to trade one against the other. See models/README.md for the measurements.
 */
export const DEFAULT_THRESHOLDS = { 'faceapi-recognition': 0.92, faceres: 0.62 } as const;
