import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { Gallery, type GallerySnapshot } from './gallery.ts';

// File layout: magic | version | 12-byte IV | 16-byte GCM tag | ciphertext. Magic and version are
// authenticated as associated data, so neither can be swapped without the tag failing.
const MAGIC = Buffer.from('WARDENFG', 'ascii');
const VERSION = 1;
const HEADER = MAGIC.length + 1;

export class GalleryKeyError extends Error {}
/** The file is not a gallery, was written with another key, or was altered: GCM's tag does not verify. */
export class GalleryIntegrityError extends Error {}

/** A 32-byte AES-256 key from 64 hex characters or base64 of 32 bytes. The key itself never appears in an error. */
export function parseGalleryKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new GalleryKeyError('gallery key must be 32 bytes: 64 hex characters or base64 (e.g. `openssl rand -hex 32`)');
  return key;
}

/** The key from the config value or, failing that, a key file (one line, hex or base64). */
export function loadGalleryKey(opts: { key?: string | undefined; keyFile?: string | undefined }): Buffer {
  if (opts.key) return parseGalleryKey(opts.key);
  if (opts.keyFile) return parseGalleryKey(readFileSync(opts.keyFile, 'utf8'));
  throw new GalleryKeyError('no gallery key: set face.galleryKey or face.galleryKeyFile');
}

function serialise(s: GallerySnapshot): Buffer {
  const meta = Buffer.from(JSON.stringify({ dimensions: s.dimensions, persons: s.persons, revoked: s.revoked, owners: s.owners }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(meta.length);
  return Buffer.concat([len, meta, Buffer.from(s.templates.buffer, s.templates.byteOffset, s.templates.byteLength)]);
}

function deserialise(b: Buffer): GallerySnapshot {
  const metaLen = b.readUInt32BE(0);
  const meta = JSON.parse(b.subarray(4, 4 + metaLen).toString('utf8')) as Omit<GallerySnapshot, 'templates'>;
  const raw = b.subarray(4 + metaLen);
  const templates = new Float32Array(raw.length / 4);
  Buffer.from(templates.buffer).set(raw);
  return { ...meta, templates };
}

export function encryptGallery(gallery: Gallery, key: Buffer): Buffer {
  const iv = randomBytes(12);
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION])]);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(serialise(gallery.snapshot())), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

export function decryptGallery(bytes: Buffer, key: Buffer): Gallery {
  if (bytes.length < HEADER + 28 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new GalleryIntegrityError('not a Warden gallery file');
  if (bytes[MAGIC.length] !== VERSION) throw new GalleryIntegrityError(`gallery file version ${bytes[MAGIC.length]} is not supported (expected ${VERSION})`);
  const iv = bytes.subarray(HEADER, HEADER + 12);
  const tag = bytes.subarray(HEADER + 12, HEADER + 28);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(bytes.subarray(0, HEADER));
  decipher.setAuthTag(tag);
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(bytes.subarray(HEADER + 28)), decipher.final()]);
  } catch {
    throw new GalleryIntegrityError('gallery file failed authentication: wrong key, or the file was altered');
  }
  return Gallery.fromSnapshot(deserialise(plain));
}

/** Writes the encrypted gallery atomically (temp file + rename), so a crash never leaves half a file. */
export async function saveGallery(file: string, gallery: Gallery, key: Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, encryptGallery(gallery, key), { mode: 0o600 });
  await rename(tmp, file);
}

export async function loadGallery(file: string, key: Buffer): Promise<Gallery> {
  return decryptGallery(await readFile(file), key);
}
