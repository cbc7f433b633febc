import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

/** Runs `warden hub` as its own process, collecting output lines. */
function runHubProcess(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [WARDEN, 'hub', ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  for (const s of [child.stdout, child.stderr]) createInterface({ input: s }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (re: RegExp) => {
    // A hub start (argon2 of the admin password, DuckDB) can take tens of seconds on a loaded 2-core CI machine.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return hit;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no line matching ${re}; output:\n${lines.join('\n')}`);
  };
  return { child, lines, exited, waitFor };
}

describe('warden hub (CLI)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-hub-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints its URLs and the generated admin login once, and stops cleanly on SIGTERM', { timeout: 300_000 }, async () => {
    const cfg = join(dir, 'hub.yaml');
    await writeFile(cfg, 'http: { port: 0 }\nmqtt: { port: 0 }\ndataDir: data\n');
    const p = runHubProcess(['--config', cfg], { WARDEN_ADMIN_PASSWORD: '' });
    const urlLine = await p.waitFor(/^Warden hub http:\/\/127\.0\.0\.1:\d+\//);
    const login = await p.waitFor(/log in as admin \/ (\S+)/);
    const password = /admin \/ (\S+)/.exec(login)![1]!;
    const base = /(http:\/\/127\.0\.0\.1:\d+)/.exec(urlLine)![1]!;
    const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
    expect(res.status).toBe(200);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);

    const again = runHubProcess(['--config', cfg], { WARDEN_ADMIN_PASSWORD: '' });
    await again.waitFor(/^Warden hub/);
    expect(again.lines.some((l) => l.includes('log in as admin'))).toBe(false);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  });

  it('exits with every config error and its path', async () => {
    const cfg = join(dir, 'bad.yaml');
    await writeFile(cfg, 'http: { port: -1 }\nmqtt: { colour: blue }\n');
    const p = runHubProcess(['--config', cfg]);
    expect(await p.exited).toBe(2);
    const out = p.lines.join('\n');
    expect(out).toMatch(/\/http\/port/);
    expect(out).toMatch(/\/mqtt: .*colour/);
  });
});
