import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { eventually } from '../src/testing.ts';

const LAUNCHER = fileURLToPath(new URL('./fixtures/launcher.ts', import.meta.url));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('supervisor: children die with their launcher', () => {
  it('a hub started by a launcher stops when the launcher is SIGKILLed (no orphan)', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-supervisor-'));
    const config = join(dir, 'hub.yaml');
    writeFileSync(config, `http: { port: 0 }\nmqtt: { port: 0 }\ndataDir: ${JSON.stringify(join(dir, 'hub'))}\nadmin: { password: supervisor-test-pw }\n`);
    const launcher = spawn(process.execPath, ['--import', 'tsx', LAUNCHER, config], { stdio: ['ignore', 'pipe', 'inherit'] });
    let child = 0;
    try {
      child = await new Promise<number>((resolve, reject) => {
        launcher.once('exit', (code) => reject(new Error(`launcher exited (${code}) before its child was up`)));
        createInterface({ input: launcher.stdout! }).on('line', (l) => {
          const m = /^CHILD (\d+)$/.exec(l);
          if (m) resolve(Number(m[1]));
        });
      });
      expect(alive(child)).toBe(true);
      launcher.kill('SIGKILL');
      await eventually(() => !alive(child), 20_000, 'the hub to exit after its launcher was killed');
    } finally {
      if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
      if (child && alive(child)) process.kill(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
