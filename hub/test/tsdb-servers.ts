import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Real time-series servers for tests and the benchmark: Debian's influxd (InfluxDB 1.6) and victoria-metrics, each
 * started on 127.0.0.1 with explicit free ports, data in a temp dir, authentication on; stopped (SIGTERM, then
 * SIGKILL) and their dir removed by `stop()`. `restart()` keeps the data and the ports.
 */

export const INFLUXD = '/usr/bin/influxd';
export const VICTORIA = '/usr/bin/victoria-metrics';
export const TSDB_USER = 'warden';
export const TSDB_PASSWORD = 'tsdb-test-password';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TsdbServer {
  url: string;
  username: string;
  password: string;
  dir: string;
  /** SIGTERM (data flushed) and wait; the data dir stays until `stop`. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function waitUp(url: string, child: () => ChildProcess | undefined, log: () => string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = child();
    if (c && c.exitCode !== null) throw new Error(`server exited with ${c.exitCode} before answering ${url}:\n${log().slice(-2000)}`);
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
      if (res.status < 500) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`server at ${url} did not answer within 30 s:\n${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function starter(cmd: string, args: string[]) {
  let child: ChildProcess | undefined;
  let out = '';
  return {
    get child() {
      return child;
    },
    log: () => out,
    start() {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      // A test worker that ends without its teardown (a hook timeout) takes the server with it.
      const c = child;
      const reap = () => c.kill('SIGKILL');
      process.once('exit', reap);
      c.once('exit', () => process.off('exit', reap));
      const keep = (b: Buffer) => {
        out = (out + b.toString()).slice(-20_000);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
    },
    async halt() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

/** influxd with auth-enabled, an admin user `warden` created on first start (the one unauthenticated query InfluxDB allows with no users). */
export async function startInfluxd(): Promise<TsdbServer> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-influxd-'));
  const [http, rpc] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxd.conf');
  await writeFile(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpc}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${http}"`,
      '  auth-enabled = true',
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '[subscriber]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const s = starter(INFLUXD, ['-config', conf]);
  const url = `http://127.0.0.1:${http}`;
  s.start();
  await waitUp(`${url}/ping`, () => s.child, s.log);
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: `CREATE USER "${TSDB_USER}" WITH PASSWORD '${TSDB_PASSWORD}' WITH ALL PRIVILEGES` }),
  });
  if (!res.ok) throw new Error(`creating the InfluxDB admin user: ${res.status} ${await res.text()}`);
  return server(s, url, dir, () => waitUp(`${url}/ping`, () => s.child, s.log));
}

/** victoria-metrics with -httpAuth (basic auth on every path). */
export async function startVictoria(): Promise<TsdbServer> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-victoria-'));
  await mkdir(join(dir, 'data'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const s = starter(VICTORIA, [
    `-storageDataPath=${join(dir, 'data')}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    `-httpAuth.username=${TSDB_USER}`,
    `-httpAuth.password=${TSDB_PASSWORD}`,
    '-retentionPeriod=100y',
    '-loggerLevel=ERROR',
  ]);
  const up = () => waitUp(`${url}/health`, () => s.child, s.log, basic(TSDB_USER, TSDB_PASSWORD));
  s.start();
  await up();
  return server(s, url, dir, up);
}

/** A started server as the tests see it: halt and restart (same port, same data) and stop (data removed). */
function server(s: ReturnType<typeof starter>, url: string, dir: string, up: () => Promise<void>): TsdbServer {
  return {
    url,
    username: TSDB_USER,
    password: TSDB_PASSWORD,
    dir,
    halt: () => s.halt(),
    async restart() {
      await s.halt();
      s.start();
      await up();
    },
    async stop() {
      await s.halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const haveInfluxd = existsSync(INFLUXD);
export const haveVictoria = existsSync(VICTORIA);
