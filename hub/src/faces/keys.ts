import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import Type, { type Static } from 'typebox';

/**
 * Where the face-template keys come from (issue 9): never from beside the data they protect. A key is 32 bytes,
 * given as base64 (44 characters) or hex (64); its id is the configured `id` or the first 8 bytes of its SHA-256
 * in hex, and every sealed template stores the id of the key that sealed it. `current` seals; `previous` keys
 * only open (rotation: `warden faces rotate-key` re-seals everything under `current`).
 */
export const FaceKeySourceSchema = Type.Object(
  {
    env: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'environment variable holding the key (base64 or hex)' })),
    file: Type.Optional(Type.String({ minLength: 1, description: 'key file outside the data dir (base64 or hex; mode 0600)' })),
    command: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'KMS-style command run without a shell; its stdout is the key (e.g. [pass, show, warden/face-key])',
      }),
    ),
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'key id stored with each template (default: first 8 bytes of SHA-256 of the key, hex)' })),
  },
  { additionalProperties: false },
);
export type FaceKeySource = Static<typeof FaceKeySourceSchema>;

export const FaceKeysConfigSchema = Type.Object(
  {
    current: Type.Optional(FaceKeySourceSchema),
    previous: Type.Array(FaceKeySourceSchema, { default: [], description: 'older keys, read-only, until `warden faces rotate-key` has re-sealed their templates' }),
    generate: Type.Boolean({
      default: true,
      description: 'a `current.file` that does not exist is created (random 256 bits, mode 0600) while no stored template needs another key',
    }),
    allowInsideDataDir: Type.Boolean({ default: false, description: 'UNSAFE, demos only: accept a key file inside the data dir (a copy of the data dir then carries its key)' }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'face-template keys; without `current`: the file <dataDir>.faces-key beside (not inside) the data dir',
  },
);
export type FaceKeysConfig = Static<typeof FaceKeysConfigSchema>;

export const COMMAND_TIMEOUT_MS = 10_000;

/** The key file used when `faces.keys.current` is not configured: next to the data dir, never inside it. */
export function defaultKeyFile(dataDir: string): string {
  return `${resolve(dataDir)}.faces-key`;
}

/** The key file of the hub before issue 9 (inside the data dir); read once to migrate, then removed. */
export function legacyKeyFile(dataDir: string): string {
  return resolve(dataDir, 'faces.key');
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    // A file that does not exist yet: resolve its folder when that exists.
    try {
      return resolve(realpathSync(dirname(p)), p.slice(dirname(p).length + 1));
    } catch {
      return resolve(p);
    }
  }
}

export function isInside(dir: string, file: string): boolean {
  const rel = relative(real(dir), real(file));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

const describe = (s: FaceKeySource): string => (s.env !== undefined ? `env ${s.env}` : s.file !== undefined ? `file ${s.file}` : `command ${(s.command ?? []).join(' ')}`);

/**
 * Configuration mistakes, found when the hub config is parsed (the hub does not start with them): not exactly one
 * of env/file/command, a key file inside the data dir, two keys with the same configured id.
 */
export function checkFaceKeysConfig(keys: FaceKeysConfig, dataDir: string, path = '/faces/keys'): string[] {
  const errors: string[] = [];
  const all: Array<[string, FaceKeySource]> = [
    ...(keys.current ? [[`${path}/current`, keys.current] as [string, FaceKeySource]] : []),
    ...keys.previous.map((k, i) => [`${path}/previous/${i}`, k] as [string, FaceKeySource]),
  ];
  const ids = new Set<string>();
  for (const [at, k] of all) {
    const n = [k.env, k.file, k.command].filter((v) => v !== undefined).length;
    if (n !== 1) errors.push(`${at}: give exactly one of env, file or command (got ${n})`);
    if (k.file !== undefined && !keys.allowInsideDataDir && isInside(dataDir, k.file)) {
      errors.push(`${at}/file: ${k.file} is inside the data dir ${dataDir}; a copy or backup of the data would carry its key. Keep it elsewhere (or set faces.keys.allowInsideDataDir: true for a demo)`);
    }
    if (k.id !== undefined) {
      if (ids.has(k.id)) errors.push(`${at}/id: key id ${k.id} used twice`);
      ids.add(k.id);
    }
  }
  return errors;
}

/** 32 bytes from base64 or hex text, or a clear reason why not. */
export function parseKey(text: string, from: string): Buffer {
  const t = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(t)) key = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64');
  if (!key || key.length !== 32) throw new FaceKeyError(`${from}: not a 256-bit key (give 32 bytes as base64, 44 characters, or hex, 64 characters)`);
  return key;
}

export class FaceKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaceKeyError';
  }
}

export interface LoadedKey {
  id: string;
  key: Buffer;
  from: string;
}

/** The keys the hub could load, and why the others could not (never thrown: a missing key must not stop the hub). */
export interface KeyRing {
  current: LoadedKey | null;
  /** Every loaded key by id (current and previous). */
  keys: Map<string, LoadedKey>;
  /** Why a configured key is not available (missing variable, file, failed command, bad length). */
  problems: string[];
  /** Where the current key is configured (for messages). */
  currentFrom: string;
}

export interface LoadKeysOptions {
  env?: NodeJS.ProcessEnv;
  /** Key ids of the templates already stored: a missing current key file is generated only when none is foreign. */
  storedKeyIds?: () => ReadonlySet<string | null>;
  /** The legacy key file of the data dir exists (its templates are migrated to the current key). */
  legacy?: boolean;
}

function readSource(s: FaceKeySource, env: NodeJS.ProcessEnv): Buffer {
  const from = describe(s);
  if (s.env !== undefined) {
    const v = env[s.env];
    if (v === undefined || v === '') throw new FaceKeyError(`${from}: the variable is not set`);
    return parseKey(v, from);
  }
  if (s.file !== undefined) {
    if (!existsSync(s.file)) throw new FaceKeyError(`${from}: no such file`);
    const mode = statSync(s.file).mode & 0o077;
    if (mode !== 0) chmodSync(s.file, 0o600);
    return parseKey(readFileSync(s.file, 'utf8'), from);
  }
  const [cmd, ...args] = s.command!;
  let out: string;
  try {
    out = execFileSync(cmd!, args, { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'], env });
  } catch (err) {
    const e = err as Error & { stderr?: string; status?: number | null };
    const why = e.stderr?.toString().trim().split('\n')[0] || e.message.split('\n')[0];
    throw new FaceKeyError(`${from}: the command failed${e.status != null ? ` (exit ${e.status})` : ''}: ${why}`);
  }
  return parseKey(out, from);
}

/**
 * Loads the configured keys. The current key file (explicit or the default beside the data dir) is created when
 * it is missing, `generate` is on and no stored template was sealed under another key: a fresh hub just works,
 * while a restored copy of the data whose key is missing never silently gets a new one.
 */
export function loadFaceKeys(cfg: FaceKeysConfig, dataDir: string, o: LoadKeysOptions = {}): KeyRing {
  const env = o.env ?? process.env;
  const current: FaceKeySource = cfg.current ?? { file: defaultKeyFile(dataDir) };
  const ring: KeyRing = { current: null, keys: new Map(), problems: [], currentFrom: describe(current) };
  const add = (s: FaceKeySource): LoadedKey | null => {
    try {
      const key = readSource(s, env);
      const k = { id: s.id ?? keyIdOf(key), key, from: describe(s) };
      ring.keys.set(k.id, k);
      return k;
    } catch (err) {
      if (!(err instanceof FaceKeyError)) throw err;
      ring.problems.push(err.message);
      return null;
    }
  };
  let refused = false;
  if (current.file !== undefined && !existsSync(current.file) && cfg.generate) {
    const stored = o.storedKeyIds?.() ?? new Set<string | null>();
    const foreign = [...stored].filter((id) => id !== null || !o.legacy);
    if (foreign.length === 0) {
      mkdirSync(dirname(current.file), { recursive: true, mode: 0o700 });
      writeFileSync(current.file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } else {
      refused = true;
      ring.problems.push(
        `${describe(current)}: no such file, and it is not generated because stored templates were sealed under key id(s) ${foreign.map((id) => id ?? 'legacy').join(', ')}: restore that key`,
      );
    }
  }
  ring.current = refused ? null : add(current);
  for (const p of cfg.previous) add(p);
  return ring;
}

/** A new random key as base64 (for `warden faces key-gen`). */
export function newKeyText(): string {
  return randomBytes(32).toString('base64');
}
