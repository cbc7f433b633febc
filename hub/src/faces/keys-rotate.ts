import { unlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit.ts';
import type { StateDb } from '../store/state-db.ts';
import type { TemplateCipher } from './crypto.ts';
import { FaceKeyError, legacyKeyFile } from './keys.ts';

interface Row {
  id: number;
  person: string;
  iv: Buffer;
  tag: Buffer;
  data: Buffer;
  keyId: string | null;
}

export interface ResealResult {
  /** Templates re-sealed under `to`. */
  resealed: number;
  /** How many came from each key id ('legacy': the old <dataDir>/faces.key). */
  from: Record<string, number>;
  to: string;
}

/** Key ids of the stored templates (null: legacy). */
export function storedKeyIds(db: StateDb): Set<string | null> {
  return new Set(db.prepare<[], { k: string | null }>('SELECT DISTINCT key_id AS k FROM face_templates').all().map((r) => r.k));
}

/** Stored templates per key id ('legacy' for the old in-data key). */
export function templatesByKey(db: StateDb): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of db.prepare<[], { k: string | null; n: number }>('SELECT key_id AS k, count(*) AS n FROM face_templates GROUP BY key_id').all()) out[r.k ?? 'legacy'] = r.n;
  return out;
}

/**
 * Re-seals every template not sealed under the current key (or, with `legacyOnly`, only those of the legacy key)
 * in one transaction: all or nothing. Refuses, changing nothing, when the current key is missing or a template's
 * key is not loaded (naming the key ids and counts).
 */
export function resealTemplates(db: StateDb, cipher: TemplateCipher, o: { legacyOnly?: boolean } = {}): ResealResult {
  const to = cipher.currentId;
  if (to === null) throw new FaceKeyError(cipher.unavailable()!);
  const rows = o.legacyOnly
    ? db.prepare<[], Row>('SELECT id, person, iv, tag, data, key_id AS keyId FROM face_templates WHERE key_id IS NULL ORDER BY id').all()
    : db.prepare<[string], Row>('SELECT id, person, iv, tag, data, key_id AS keyId FROM face_templates WHERE key_id IS NULL OR key_id != ? ORDER BY id').all(to);
  const missing: Record<string, number> = {};
  const from: Record<string, number> = {};
  for (const r of rows) {
    const k = r.keyId ?? 'legacy';
    from[k] = (from[k] ?? 0) + 1;
    if (!cipher.canOpen(r)) missing[k] = (missing[k] ?? 0) + 1;
  }
  if (Object.keys(missing).length) {
    throw new FaceKeyError(
      `templates unreadable, nothing re-sealed: ${Object.entries(missing)
        .map(([k, n]) => `${n} under key id ${k} (missing)`)
        .join(', ')}; add the key to faces.keys.previous and run again`,
    );
  }
  const update = db.prepare<[Buffer, Buffer, Buffer, string, number]>('UPDATE face_templates SET iv = ?, tag = ?, data = ?, key_id = ? WHERE id = ?');
  db.transaction(() => {
    for (const r of rows) {
      const s = cipher.seal(r.person, cipher.open(r.person, r));
      update.run(s.iv, s.tag, s.data, s.keyId!, r.id);
    }
  })();
  return { resealed: rows.length, from, to };
}

/**
 * At the faces module's start: templates sealed with the legacy `<dataDir>/faces.key` (before issue 9) are
 * re-sealed under the current key, audited, and the legacy file is removed (a copy of the data dir must not carry
 * its key). Without a current key nothing changes and the reason is logged.
 */
export function migrateLegacyKey(d: { db: StateDb; dataDir: string; cipher: TemplateCipher; audit: AuditLog; log: Logger }): ResealResult | null {
  if (!d.cipher.hasLegacy) return null;
  if (d.cipher.currentId === null) {
    d.log.error({ reason: d.cipher.unavailable() }, 'the legacy face key in the data dir is not migrated: no current face key');
    return null;
  }
  const r = resealTemplates(d.db, d.cipher, { legacyOnly: true });
  d.audit.record('system', 'face.key_migrate', r.to, { templates: r.resealed, from: 'legacy <dataDir>/faces.key' });
  unlinkSync(legacyKeyFile(d.dataDir));
  d.log.warn({ templates: r.resealed, keyId: r.to }, 'face templates moved from the legacy key in the data dir to the configured face key; the legacy key file was removed');
  return r;
}
