import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.ts';

const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

function run(args: string[]) {
  const child = spawn(process.execPath, [WARDEN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WARDEN_GATEWAY_PASSWORD: 'pw' } });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  for (const s of [child.stdout!, child.stderr!]) {
    createInterface({ input: s }).on('line', (l) => {
      lines.push(l);
      for (const w of [...waiters]) {
        const m = l.match(w.re);
        if (m) (waiters.splice(waiters.indexOf(w), 1), w.resolve(m));
      }
    });
  }
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    lines,
    exited,
    waitFor: (re: RegExp) => new Promise<RegExpMatchArray>((resolve) => waiters.push({ re, resolve })),
  };
}

describe('warden edge (CLI)', () => {
  let tmp: ReturnType<typeof tempDir>;
  const kill: Array<() => void> = [];
  afterEach(() => {
    for (const k of kill.splice(0)) k();
    tmp?.remove();
  });

  it('prints where it listens, serves devices, and stops cleanly on SIGTERM', async () => {
    tmp = tempDir();
    const file = join(tmp.dir, 'gw.yaml');
    // The hub URL points at a port nothing listens on: the agent runs anyway and queues.
    writeFileSync(file, ['gateway: { id: gw-cli }', 'hub: { url: "mqtt://127.0.0.1:9", reconnectMs: 60000 }', 'field: { port: 0, requireAuth: false }', 'devices:', '  - { id: sos-1, driver: emergency-post }'].join('\n'));
    const p = run(['edge', '--config', file]);
    kill.push(() => p.child.kill('SIGKILL'));
    const [, port] = await p.waitFor(/field broker listening on mqtt:\/\/127\.0\.0\.1:(\d+)/);
    const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'sos-1', reconnectPeriod: 0 });
    await dev.publishAsync('sos/sos-1', JSON.stringify({ btn: 'PRESSED' }), { qos: 1 });
    await dev.endAsync();
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.lines.join('\n')).toMatch(/edge agent stopped/);
  });

  it('exits with every config error listed', async () => {
    tmp = tempDir();
    const file = join(tmp.dir, 'bad.yaml');
    writeFileSync(file, ['gateway: { id: GW }', 'devices:', '  - { id: d1, driver: dor-controller }'].join('\n'));
    const p = run(['edge', '-c', file]);
    kill.push(() => p.child.kill('SIGKILL'));
    expect(await p.exited).toBe(2);
    const out = p.lines.join('\n');
    expect(out).toContain(`invalid edge config ${file}`);
    expect(out).toMatch(/gateway\/id: "GW" must be/);
    expect(out).toContain('devices/0/driver: unknown driver "dor-controller"');
  });
});
