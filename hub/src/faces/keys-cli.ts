import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AuditLog } from '../audit.ts';
import { ConfigError, loadHubConfig } from '../config.ts';
import { openStateDb } from '../store/state-db.ts';
import { TemplateCipher } from './crypto.ts';
import { FaceKeyError, isInside, newKeyText } from './keys.ts';
import { storedKeyIds, templatesByKey, resealTemplates, type ResealResult } from './keys-rotate.ts';

/**
 * Re-seals every face template under the current key of the hub config (`faces.keys.current`), opening each with
 * the key it names (current or `faces.keys.previous`), in one transaction; audited as `face.key_rotate`.
 * Run it with the hub stopped, after making the new key current and listing the old one under previous.
 */
export function rotateFaceKey(configFile: string | undefined, env: NodeJS.ProcessEnv = process.env, actor = 'cli'): ResealResult & { before: Record<string, number> } {
  const config = loadHubConfig(configFile, env);
  const file = join(config.dataDir, 'state.db');
  if (!existsSync(file)) throw new FaceKeyError(`no hub state at ${file}`);
  const db = openStateDb(file);
  try {
    const before = templatesByKey(db);
    // Never generate a key here: the new key must already be configured.
    const cipher = TemplateCipher.open(config.dataDir, { ...config.faces.keys, generate: false }, { env, storedKeyIds: () => storedKeyIds(db) });
    if (cipher.hasLegacy) throw new FaceKeyError(`the legacy key ${join(config.dataDir, 'faces.key')} is still in the data dir: start the hub once to migrate it`);
    const r = resealTemplates(db, cipher);
    new AuditLog(db).record(actor, 'face.key_rotate', r.to, { templates: r.resealed, from: r.from });
    return { ...r, before };
  } finally {
    db.close();
  }
}

/** `warden face rotate-key [--config hub.yaml]`: exit 0 with a summary; 1 naming what is missing; 2 for a bad config. */
export async function runFaceRotateKey(opts: { config?: string }): Promise<void> {
  try {
    const r = rotateFaceKey(opts.config);
    const from = Object.entries(r.from).map(([k, n]) => `${n} from ${k}`);
    console.log(`face templates re-sealed under key id ${r.to}: ${r.resealed}${from.length ? ` (${from.join(', ')})` : ' (all were already under it)'}; recorded in the audit trail`);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    if (err instanceof FaceKeyError) {
      console.error(`rotate-key: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

/**
 * `warden face key-gen [--out file] [--config hub.yaml]`: a new random 256-bit key as base64, on stdout (to pipe
 * into `pass insert` or a KMS) or into a new 0600 file, which may not be inside the hub's data dir.
 */
export async function runFaceKeyGen(opts: { out?: string; config?: string }): Promise<void> {
  const key = newKeyText();
  if (!opts.out) {
    console.log(key);
    return;
  }
  const out = resolve(opts.out);
  try {
    const dataDir = loadHubConfig(opts.config).dataDir;
    if (isInside(dataDir, out)) throw new FaceKeyError(`${out} is inside the hub data dir ${dataDir}: keep keys out of the data they protect`);
    mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
    writeFileSync(out, key + '\n', { mode: 0o600, flag: 'wx' });
    console.log(`new face key written to ${out} (mode 0600)`);
  } catch (err) {
    console.error(`key-gen: ${(err as Error).message}`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  }
}
