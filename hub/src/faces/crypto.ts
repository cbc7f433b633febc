import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SealedTemplate {
  iv: Buffer;
  tag: Buffer;
  data: Buffer;
}

/**
 * Face templates at rest: AES-256-GCM per template, the person id as associated data (a row moved to another
 * person fails to open). The key lives in `faces.key` in the hub's data dir, mode 0600, created on first use;
 * it is never logged and never leaves this class.
 */
export class TemplateCipher {
  private constructor(private readonly key: Buffer) {}

  static open(dataDir: string): TemplateCipher {
    const file = join(dataDir, 'faces.key');
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    if (key.length !== 32) throw new Error(`${file} must hold 64 hex characters (a 256-bit key)`);
    return new TemplateCipher(key);
  }

  seal(person: string, template: Float32Array): SealedTemplate {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(person, 'utf8'));
    const data = Buffer.concat([c.update(Buffer.from(template.buffer, template.byteOffset, template.byteLength)), c.final()]);
    return { iv, tag: c.getAuthTag(), data };
  }

  open(person: string, s: SealedTemplate): Float32Array {
    const d = createDecipheriv('aes-256-gcm', this.key, s.iv);
    d.setAAD(Buffer.from(person, 'utf8'));
    d.setAuthTag(s.tag);
    const raw = Buffer.concat([d.update(s.data), d.final()]);
    const out = new Float32Array(raw.length / 4);
    Buffer.from(out.buffer).set(raw);
    return out;
  }
}
