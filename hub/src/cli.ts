import { ConfigError, loadHubConfig } from './config.ts';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { AuditLog, type VerifyResult } from './audit.ts';
import { startHub } from './hub.ts';
import { backupOffline, restoreBackup, type BackupManifest } from './lifecycle/backup.ts';
import { askControl } from './lifecycle/control.ts';

/** Verifies the audit chain of a state.db (read-only; the hub may be running). */
export function verifyAuditFile(file: string): VerifyResult {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return new AuditLog(db).verify();
  } finally {
    db.close();
  }
}

/** `warden audit verify [--config hub.yaml | --data dir]`: exit 0 when the chain holds, 1 naming the first broken row. */
export async function runAuditVerify(opts: { config?: string; data?: string }): Promise<void> {
  let dataDir = opts.data;
  if (!dataDir) {
    try {
      dataDir = loadHubConfig(opts.config).dataDir;
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(err.message);
        process.exitCode = 2;
        return;
      }
      throw err;
    }
  }
  const file = join(dataDir, 'state.db');
  if (!existsSync(file)) {
    console.error(`no hub state at ${file}`);
    process.exitCode = 2;
    return;
  }
  const r = verifyAuditFile(file);
  if (r.ok) {
    console.log(`audit chain intact: ${r.rows} entries${r.lastId !== null ? `, last id ${r.lastId}` : ''}`);
  } else {
    console.error(`audit chain BROKEN at row ${r.brokenId}: ${r.reason} (${r.rows} entries checked)`);
    process.exitCode = 1;
  }
}

function dataDirOf(opts: { config?: string; data?: string }): string | undefined {
  if (opts.data) return opts.data;
  try {
    return loadHubConfig(opts.config, process.env).dataDir;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 2;
      return undefined;
    }
    throw err;
  }
}

function describe(m: BackupManifest): string {
  const bytes = m.files.reduce((a, f) => a + f.bytes, 0);
  return `${m.files.length} files, ${(bytes / 1048576).toFixed(1)} MiB; ${m.counts.events} events, ${m.counts.alarms} alarms, ${m.counts.auditEntries} audit entries, ${m.counts.users} users${m.telemetry ? `; NOTE: ${m.telemetry.note}` : ''}`;
}

/**
 * `warden backup <dir> [--config hub.yaml | --data dir]`: asks the running hub (its control socket in the data dir)
 * for a consistent copy of its stores into the new folder <dir>; with no hub running, copies the files itself.
 */
export async function runBackup(dir: string, opts: { config?: string; data?: string }): Promise<void> {
  const dataDir = dataDirOf(opts);
  if (!dataDir) return;
  const out = resolve(dir);
  try {
    const a = await askControl(dataDir, { op: 'backup', dir: out });
    if (a && !a.ok) throw new Error(a.error);
    const m = a?.ok ? a.manifest : await backupOffline(dataDir, out);
    console.log(`backup ${a ? 'of the running hub' : 'of the stopped hub'} written to ${out}: ${describe(m)}`);
  } catch (err) {
    console.error(`backup failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

/** `warden restore <dir> --data <new data dir>`: checks the backup's checksums and copies it into a new, empty data dir. */
export async function runRestore(dir: string, opts: { config?: string; data?: string }): Promise<void> {
  const dataDir = dataDirOf(opts);
  if (!dataDir) return;
  try {
    const m = await restoreBackup(resolve(dir), resolve(dataDir));
    console.log(`restored ${resolve(dir)} into ${resolve(dataDir)}: ${describe(m)}; start the hub with dataDir ${resolve(dataDir)}`);
  } catch (err) {
    console.error(`restore failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}

/** `warden hub [--config hub.yaml]`: runs until SIGINT/SIGTERM, then shuts down cleanly. */
export async function runHub(opts: { config?: string }): Promise<void> {
  let config;
  try {
    config = loadHubConfig(opts.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  // Signals are caught from the start: one arriving while the hub is still starting stops it right after.
  let signalled: string | undefined;
  let onSignal: ((signal: string) => void) | undefined;
  const catchSignal = (signal: string) => {
    signalled ??= signal;
    onSignal?.(signal);
  };
  process.once('SIGINT', () => catchSignal('SIGINT'));
  process.once('SIGTERM', () => catchSignal('SIGTERM'));
  const hub = await startHub(config);
  const lines = [
    `Warden hub ${hub.httpUrl}/ (console, REST API at /api, OpenAPI at /api/openapi.json)`,
    `  MQTT for gateways: ${hub.mqttUrl}${hub.mqttTlsUrl && hub.mqttTlsUrl !== hub.mqttUrl ? `, ${hub.mqttTlsUrl}` : ''} and ${hub.mqttWsUrl}`,
    `  data: ${config.dataDir}`,
  ];
  if (hub.initialAdminPassword) {
    lines.push(`  first start: log in as admin / ${hub.initialAdminPassword}   (shown only this once; set WARDEN_ADMIN_PASSWORD or admin.password to choose it)`);
  }
  console.log(lines.join('\n'));
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.log(`${signal}: stopping the hub...`);
      hub.stop().then(resolve, (err: unknown) => {
        console.error('hub did not stop cleanly:', err);
        process.exitCode = 1;
        resolve();
      });
    };
    onSignal = stop;
    if (signalled) stop(signalled);
  });
}

/** `warden relay --config relay.yaml`: a live video relay node (hub/src/video/node.ts; hub/README.md, "Cameras"). */
export async function runRelay(opts: { config: string }): Promise<void> {
  return (await import('./video/node.ts')).runRelay(opts);
}
