import Type, { type Static } from 'typebox';
import { CONTRACT_VERSION } from './version.ts';

/**
 * Face gallery sync, hub -> gateway on `warden/v1/gw/{id}/gallery` (QoS 1, not retained).
 *
 * The hub keeps, per gateway, a version number that grows with every change to the set of people that
 * gateway needs. A delta takes a gateway from `base` to `to`: each listed person is either upserted (their
 * whole current entry: flags, credentials, templates, per-point thresholds) or revoked (removed, templates
 * deleted). A gateway applies a delta only when `base` equals the version it holds; it reports the version
 * it holds in its status (`gallery.version`), at birth and on every heartbeat, and the hub answers a
 * status whose version differs from its own with the delta from that version. `reset: true` means "clear
 * the gallery first" (version 0, or the gateway is ahead of the hub); it too applies only on its `base`. A large delta is
 * split into `parts`; the gateway moves to `to` only after the last part, and applying a part twice is
 * harmless, so a lost part is simply sent again from the old base.
 *
 * Templates travel in the clear inside the message: the link is the gateway's own authenticated MQTT session
 * (TLS-able), and the broker's ACL lets only that gateway read its subtree. At rest they are encrypted on
 * both sides (hub database, gateway gallery file).
 */
export const GalleryPersonEntrySchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
    watchlist: Type.Boolean(),
    /** Card or QR credentials (the alternative to the face at every point). */
    credentials: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 16 }),
    /** L2-normalised templates, little-endian float32, base64. Empty: card/QR only, or consent withdrawn. */
    templates: Type.Array(Type.String({ maxLength: 8192 }), { maxItems: 16 }),
    /** Raised match thresholds per face point (device id), set by operators' "not this person" corrections. */
    thresholds: Type.Record(Type.String({ maxLength: 128 }), Type.Number({ minimum: -1, maximum: 1 })),
  },
  { additionalProperties: false },
);
export type GalleryPersonEntry = Static<typeof GalleryPersonEntrySchema>;

export const GalleryDeltaSchema = Type.Object(
  {
    v: Type.Literal(CONTRACT_VERSION),
    gw: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' }),
    base: Type.Integer({ minimum: 0 }),
    to: Type.Integer({ minimum: 0 }),
    reset: Type.Boolean(),
    part: Type.Integer({ minimum: 1 }),
    parts: Type.Integer({ minimum: 1 }),
    /** The recogniser the templates come from; a gateway running another one refuses the delta. */
    model: Type.String({ maxLength: 64 }),
    upsert: Type.Array(GalleryPersonEntrySchema, { maxItems: 5000 }),
    revoke: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50000 }),
  },
  { additionalProperties: false },
);
export type GalleryDelta = Static<typeof GalleryDeltaSchema>;

/** Template bytes <-> base64 (little-endian float32, as every supported platform stores them). */
export function encodeTemplate(t: Float32Array): string {
  return Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64');
}

export function decodeTemplate(b64: string): Float32Array {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length % 4 !== 0) throw new Error(`template is ${raw.length} bytes, not a whole number of float32`);
  const out = new Float32Array(raw.length / 4);
  Buffer.from(out.buffer).set(raw);
  return out;
}
