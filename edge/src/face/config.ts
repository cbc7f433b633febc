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
    cardsOnly: Type.Boolean({
      default: false,
      description: 'decide card and QR presentations only (e.g. dorm check-in points with card readers): no face models are loaded, a face image is refused',
    }),
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
 * Default match threshold per recogniser (cosine similarity of L2-normalised descriptors), measured with
 * `warden face verify` on all 780 pairs of ../shared/faces (80 same-person, 700 different-person):
 * faceapi-recognition at 0.92: accuracy 98.6 %, 1 false accept of 700, 10 false rejects of 80 (TAR 91.3 %
 * at FAR 1e-2); faceres at 0.60: accuracy 96.8 %, 2 false accepts, 23 false rejects (TAR 76.3 % at FAR 1e-2).
 * That is why faceapi-recognition is the default. A point sets its own `threshold` to trade false accepts
 * against false rejects.
 */
export const DEFAULT_THRESHOLDS = { 'faceapi-recognition': 0.92, faceres: 0.6 } as const;
