import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { FaceKeyError, legacyKeyFile, loadFaceKeys, type FaceKeysConfig, type KeyRing, type LoadKeysOptions } from './keys.ts';

export interface SealedTemplate {
  iv: Buffer;
  tag: Buffer;
  data: Buffer;
  /** Id of the key that sealed it; null: the legacy `<dataDir>/faces.key` (before issue 9), migrated at start. */
  keyId: string | null;
}

/**
 * Face templates at rest: AES-256-GCM per template, the person id as associated data (a row moved to another
 * person fails to open). Keys come from outside the data dir (hub/src/faces/keys.ts: environment variable, key
 * file, KMS-style command); each template carries the id of the key that sealed it, `current` seals, previous
 * keys still open. Keys are never logged and never leave this class.
 */
export class TemplateCipher {
  constructor(
    readonly ring: KeyRing,
    private readonly legacy: Buffer | null = null,
  ) {}

  /** The keys of a hub's config (`faces.keys`), with the legacy in-data key file when one is still there. */
  static open(dataDir: string, keys: FaceKeysConfig = { previous: [], generate: true, allowInsideDataDir: false }, o: LoadKeysOptions = {}): TemplateCipher {
    const file = legacyKeyFile(dataDir);
    let legacy: Buffer | null = null;
    if (existsSync(file)) {
      const k = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
      if (k.length === 32) legacy = k;
    }
    return new TemplateCipher(loadFaceKeys(keys, dataDir, { ...o, legacy: legacy !== null }), legacy);
  }

  /** The id templates are sealed under now, or null when no current key could be loaded. */
  get currentId(): string | null {
    return this.ring.current?.id ?? null;
  }

  get hasLegacy(): boolean {
    return this.legacy !== null;
  }

  /** Why sealing is impossible (null when it is possible). */
  unavailable(): string | null {
    if (this.ring.current) return null;
    return `no current face key (${this.ring.currentFrom}): ${this.ring.problems.join('; ') || 'not loaded'}`;
  }

  seal(person: string, template: Float32Array): SealedTemplate {
    const cur = this.ring.current;
    if (!cur) throw new FaceKeyError(`face templates cannot be sealed: ${this.unavailable()}`);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', cur.key, iv);
    c.setAAD(Buffer.from(person, 'utf8'));
    const data = Buffer.concat([c.update(Buffer.from(template.buffer, template.byteOffset, template.byteLength)), c.final()]);
    return { iv, tag: c.getAuthTag(), data, keyId: cur.id };
  }

  /** Can this template be opened with the keys loaded? */
  canOpen(s: Pick<SealedTemplate, 'keyId'>): boolean {
    return s.keyId === null ? this.legacy !== null : this.ring.keys.has(s.keyId);
  }

  open(person: string, s: SealedTemplate): Float32Array {
    const key = s.keyId === null ? this.legacy : (this.ring.keys.get(s.keyId)?.key ?? null);
    if (!key) {
      throw new FaceKeyError(
        s.keyId === null
          ? 'face template unreadable: it was sealed with the legacy <dataDir>/faces.key, which is missing'
          : `face template unreadable: key id ${s.keyId} missing (configure it in faces.keys.current or faces.keys.previous)`,
      );
    }
    const d = createDecipheriv('aes-256-gcm', key, s.iv);
    d.setAAD(Buffer.from(person, 'utf8'));
    d.setAuthTag(s.tag);
    let raw: Buffer;
    try {
      raw = Buffer.concat([d.update(s.data), d.final()]);
    } catch {
      throw new FaceKeyError(`face template unreadable: it does not open with key id ${s.keyId ?? 'legacy'} (wrong key or altered row)`);
    }
    const out = new Float32Array(raw.length / 4);
    Buffer.from(out.buffer).set(raw);
    return out;
  }
}
