import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DuckDBConnection } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { copyDuckDb, openDuckDb } from '../store/duckdb.ts';
import type { StateDb } from '../store/state-db.ts';
import { readTelemetryMarker, type TelemetryMarker } from '../store/telemetry-config.ts';

/** The manifest every backup folder carries; `warden restore` checks it before anything is copied. */
export const MANIFEST = 'warden-backup.json';
export const STATE_DB = 'state.db';
/** The hub's embedded DuckDB files (telemetry; energy rollups when the energy module runs). */
export const DUCKDB_FILES = ['telemetry.duckdb', 'energy.duckdb'] as const;

export interface BackupManifest {
  format: 1;
  /** Hub-clock time the copy was taken (ms since the epoch). */
  takenAt: number;
  /** `live`: taken by the running hub over its control socket; `offline`: from the files of a stopped hub. */
  mode: 'live' | 'offline';
  files: Array<{ name: string; bytes: number; sha256: string }>;
  /** Row counts in the copy, so a restore (and a reader) can see what it holds. */
  counts: { events: number; alarms: number; auditEntries: number; users: number; devices: number };
  /**
   * Present when telemetry lives on an InfluxDB / VictoriaMetrics server (`telemetry.backend`): it is NOT in this
   * backup; `note` says so and names the server's own backup tool (the CLI prints it).
   */
  telemetry?: TelemetryMarker;
}

export interface LiveStores {
  dataDir: string;
  db: StateDb;
  /** DuckDB files by name with a way to copy each consistently while it is written. */
  duckdb: Array<{ name: string; backupTo(file: string): Promise<void> }>;
  clock: () => number;
}

/** Things in the data dir that are never copied as files: the stores (copied through their own APIs), their journals, sockets. */
function isStoreFile(name: string): boolean {
  return (
    name === STATE_DB ||
    name.startsWith(`${STATE_DB}-`) ||
    (DUCKDB_FILES as readonly string[]).some((f) => name === f || name.startsWith(`${f}.`)) ||
    name.endsWith('.sock') ||
    name.endsWith('.tmp') ||
    name === 'backups' ||
    name === MANIFEST
  );
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function counts(file: string): BackupManifest['counts'] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const n = (table: string): number => {
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      return exists ? Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n) : 0;
    };
    return { events: n('events'), alarms: n('alarms'), auditEntries: n('audit'), users: n('users'), devices: n('devices') };
  } finally {
    db.close();
  }
}

/** A fresh folder beside `out` that becomes `out` by one rename once every file is written. */
function stagingFor(out: string): string {
  const target = resolve(out);
  if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0)) {
    throw new Error(`backup target ${target} exists and is not an empty folder; name a new one`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.partial-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { mode: 0o700 });
  return tmp;
}

function finish(tmp: string, out: string, dataDir: string, takenAt: number, mode: BackupManifest['mode']): BackupManifest {
  // The other files of the data dir (JWT key, video sources, face keys, snapshots...), as they are.
  for (const name of readdirSync(dataDir)) {
    if (isStoreFile(name) || name.startsWith('.')) continue;
    const from = join(dataDir, name);
    if (resolve(from) === resolve(out)) continue;
    cpSync(from, join(tmp, name), { recursive: true, preserveTimestamps: true });
  }
  const files = readdirSync(tmp, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const file = join(e.parentPath, e.name);
      return { name: file.slice(tmp.length + 1), bytes: statSync(file).size, sha256: sha256(file) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const external = readTelemetryMarker(tmp);
  const manifest: BackupManifest = { format: 1, takenAt, mode, files, counts: counts(join(tmp, STATE_DB)), ...(external ? { telemetry: external } : {}) };
  writeFileSync(join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  const target = resolve(out);
  if (existsSync(target)) rmSync(target, { recursive: true });
  renameSync(tmp, target);
  return manifest;
}

/**
 * Backup of a running hub, taken inside the hub process (over its control socket, lifecycle/control.ts): state.db
 * through SQLite's online backup API (a consistent snapshot while ingest writes; WAL readers are never blocked),
 * each DuckDB file by COPY FROM DATABASE in one read transaction, then the other files of the data dir. The folder
 * appears under its name only when complete.
 */
export async function backupLive(stores: LiveStores, out: string): Promise<BackupManifest> {
  const takenAt = stores.clock();
  const tmp = stagingFor(out);
  try {
    await stores.db.backup(join(tmp, STATE_DB));
    for (const d of stores.duckdb) await d.backupTo(join(tmp, d.name));
    return finish(tmp, out, stores.dataDir, takenAt, 'live');
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Backup of a stopped hub's data dir (DuckDB refuses a second process while the hub holds its files). */
export async function backupOffline(dataDir: string, out: string, now = Date.now()): Promise<BackupManifest> {
  const stateFile = join(dataDir, STATE_DB);
  if (!existsSync(stateFile)) throw new Error(`no hub state at ${stateFile}`);
  const tmp = stagingFor(out);
  try {
    const db = new Database(stateFile, { readonly: true, fileMustExist: true });
    try {
      await db.backup(join(tmp, STATE_DB));
    } finally {
      db.close();
    }
    for (const name of DUCKDB_FILES) {
      const file = join(dataDir, name);
      if (!existsSync(file)) continue;
      const instance = await openDuckDb(file);
      const conn = await DuckDBConnection.create(instance);
      try {
        await copyDuckDb(conn, join(tmp, name));
      } finally {
        conn.closeSync();
        instance.closeSync();
      }
    }
    return finish(tmp, out, dataDir, now, 'offline');
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Reads and checks a backup folder's manifest and every file's size and SHA-256. Throws naming the first problem. */
export function verifyBackup(dir: string): BackupManifest {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) throw new Error(`${dir} is not a Warden backup (no ${MANIFEST})`);
  const m = JSON.parse(readFileSync(file, 'utf8')) as BackupManifest;
  if (m.format !== 1 || !Array.isArray(m.files)) throw new Error(`${file}: unknown backup format ${String(m.format)}`);
  if (!m.files.some((f) => f.name === STATE_DB)) throw new Error(`${file}: the backup holds no ${STATE_DB}`);
  for (const f of m.files) {
    const p = join(dir, f.name);
    if (resolve(p).indexOf(resolve(dir)) !== 0) throw new Error(`${file}: file name ${f.name} points outside the backup`);
    if (!existsSync(p)) throw new Error(`backup file ${f.name} is missing`);
    if (statSync(p).size !== f.bytes || sha256(p) !== f.sha256) throw new Error(`backup file ${f.name} does not match its checksum (damaged or edited)`);
  }
  return m;
}

/**
 * Restores a backup folder into a NEW data dir (refused when it already holds hub state), after checking every
 * checksum; SQLite's integrity check runs on the copied state.db and each DuckDB file is opened once. Start a hub
 * with `dataDir` pointing there.
 */
export async function restoreBackup(dir: string, dataDir: string): Promise<BackupManifest> {
  const m = verifyBackup(dir);
  const target = resolve(dataDir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new Error(`restore target ${target} is not empty; restore into a new data dir (then point dataDir at it)`);
  }
  mkdirSync(target, { recursive: true, mode: 0o700 });
  for (const f of m.files) {
    const to = join(target, f.name);
    mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
    copyFileSync(join(dir, f.name), to);
    chmodSync(to, 0o600);
  }
  const db = new Database(join(target, STATE_DB), { fileMustExist: true });
  try {
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`restored ${STATE_DB} fails SQLite's integrity check: ${String(check)}`);
  } finally {
    db.close();
  }
  for (const name of DUCKDB_FILES) {
    if (!m.files.some((f) => f.name === name)) continue;
    const instance = await openDuckDb(join(target, name));
    instance.closeSync();
  }
  return m;
}
