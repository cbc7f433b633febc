import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { isAbsolute, join } from 'node:path';
import type { BackupManifest } from './backup.ts';

/**
 * The hub's control socket: a Unix socket `control.sock` in the data dir (0600, in a 0700 folder), so only the hub's
 * own OS user reaches it; `warden backup` asks the running hub through it to copy its stores (DuckDB lets only the
 * process that holds a file read it). One JSON line in, one JSON line out.
 */
export const CONTROL_SOCKET = 'control.sock';
/** Unix socket paths are limited to 107 bytes on Linux. */
const MAX_SOCKET_PATH = 107;

export type ControlRequest = { op: 'backup'; dir: string };
export type ControlAnswer = { ok: true; manifest: BackupManifest } | { ok: false; error: string };

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, CONTROL_SOCKET);
}

export async function listenControl(dataDir: string, handle: (req: ControlRequest) => Promise<ControlAnswer>): Promise<Server | undefined> {
  const path = controlSocketPath(dataDir);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) return undefined;
  if (existsSync(path)) unlinkSync(path); // left by a hub that was killed
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => {});
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 64 * 1024) return sock.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      let req: unknown;
      try {
        req = JSON.parse(line);
      } catch {
        sock.end(`${JSON.stringify({ ok: false, error: 'request is not JSON' })}\n`);
        return;
      }
      const r = req as Partial<ControlRequest>;
      if (r?.op !== 'backup' || typeof r.dir !== 'string' || !isAbsolute(r.dir)) {
        sock.end(`${JSON.stringify({ ok: false, error: 'expected {"op":"backup","dir":"<absolute path>"}' })}\n`);
        return;
      }
      handle({ op: 'backup', dir: r.dir }).then(
        (a) => sock.end(`${JSON.stringify(a)}\n`),
        (err: unknown) => sock.end(`${JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) })}\n`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  server.unref();
  return server;
}

/** Sends one request to a running hub's control socket; undefined when no hub listens there. */
export function askControl(dataDir: string, req: ControlRequest, timeoutMs = 600_000): Promise<ControlAnswer | undefined> {
  const path = controlSocketPath(dataDir);
  if (!existsSync(path)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`the hub did not answer on ${path} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (c: string) => (buf += c));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // A socket file without a listener: the hub was killed; treat as not running.
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(undefined);
      else reject(err);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf.trim()) as ControlAnswer);
      } catch {
        reject(new Error(`unexpected answer from the hub: ${buf.slice(0, 200)}`));
      }
    });
  });
}
