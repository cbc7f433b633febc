import { ConfigError, loadHubConfig } from './config.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AuditLog, type VerifyResult } from './audit.ts';
import { startHub } from './hub.ts';

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
    `  MQTT for gateways: ${hub.mqttUrl} and ${hub.mqttWsUrl}`,
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
