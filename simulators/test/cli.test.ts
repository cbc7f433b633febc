import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { resolveScenario } from '../src/cli.ts';
import { record, startBroker, type TestBroker } from './helpers.ts';

const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

let broker: TestBroker;
let dir: string;
beforeAll(async () => {
  broker = await startBroker();
  dir = await mkdtemp(join(tmpdir(), 'warden-sim-cli-'));
});
afterAll(async () => {
  await broker.close();
  await rm(dir, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  waitFor(re: RegExp): Promise<string>;
  exit: Promise<number | null>;
}

/** `warden sim ...` as its own process, the way testers and the launcher run it. */
function sim(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [WARDEN, 'sim', ...args], { env: { ...process.env, WARDEN_LOG_LEVEL: 'warn', ...env } });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  for (const s of [child.stdout, child.stderr]) createInterface({ input: s }).on('line', (l) => (lines.push(l), waiters.forEach((w) => w())));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exit,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${lines.join('\n')}`)), 30_000);
        const check = (): void => {
          const hit = lines.find((l) => re.test(l));
          if (hit) (clearTimeout(timer), resolve(hit));
        };
        waiters.push(check);
        check();
      }),
  };
}

describe('warden sim', () => {
  it('runs a scenario file, takes device actions on stdin, and stops cleanly on SIGTERM', async () => {
    const file = join(dir, 'cli.yaml');
    await writeFile(
      file,
      [
        'name: cli-test',
        'gateways:',
        '  - id: gw-cli',
        '    url: ${TEST_FIELD_URL}',
        '    devices:',
        '      - { id: door-cli-1, type: door-controller, options: { behave: false } }',
        '      - { id: relay-cli-1, type: relay-actuator, options: { behave: false } }',
        'timeline:',
        '  - { at: 0s, device: relay-cli-1, do: set, arg: { on: true, level: 40 } }',
      ].join('\n'),
    );
    const rec = await record(broker.url);
    const p = sim([file, '--speed', '10'], { TEST_FIELD_URL: broker.url });
    await p.waitFor(/^started: 2 devices online; timeline of 1 action/);
    expect(p.lines.some((l) => /gw-cli\s+mqtt:\/\/127\.0\.0\.1:\d+\s+door-controller×1, relay-actuator×1/.test(l))).toBe(true);
    await p.waitFor(/^timeline \+0s relay-cli-1 set \{"on":true,"level":40\}/);

    p.child.stdin.write('door-cli-1 force 1\n');
    await p.waitFor(/^ok door-cli-1 force 1/);
    await rec.waitFor((m) => m.topic === 'acs/door-cli-1/event' && m.json.event === 'FORCED_OPEN', 'forced via stdin');
    p.child.stdin.write('state relay-cli-1\n');
    expect(JSON.parse((await p.waitFor(/^relay-cli-1 \{/)).slice('relay-cli-1 '.length))).toMatchObject({ on: true, level: 40, connected: true });
    p.child.stdin.write('door-cli-1 fly\n');
    await p.waitFor(/^error: door-cli-1 \(door-controller\) has no action "fly"/);

    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    expect(p.lines).toContain('stopped');
    await rec.waitFor((m) => m.topic === 'avail/door-cli-1' && m.text === 'offline', 'offline at stop');
    await rec.close();
  });

  it('exits non-zero with a clear message for an unknown scenario or an invalid file', async () => {
    const p = sim(['no-such-scenario']);
    expect(await p.exit).toBe(1);
    expect(p.lines.join('\n')).toMatch(/no scenario "no-such-scenario".*fire-drill/);

    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'gateways:\n  - { id: gw-1, url: "mqtt://127.0.0.1:1", devices: [ { id: d-1, type: toaster } ] }\n');
    const q = sim([bad]);
    expect(await q.exit).toBe(1);
    expect(q.lines.join('\n')).toMatch(/\/gateways\/0\/devices\/0\/type: unknown device type "toaster"/);
  });

  it('knows the campus plan by name, on the field ports warden start uses', () => {
    const s = resolveScenario('campus', { WARDEN_FIELD_PORT_BASE: '2884' });
    expect(s.gateways.map((g) => g.url)).toEqual(['mqtt://127.0.0.1:2884', 'mqtt://127.0.0.1:2885', 'mqtt://127.0.0.1:2886', 'mqtt://127.0.0.1:2887', 'mqtt://127.0.0.1:2888']);
    expect(resolveScenario('campus-full', {}).gateways.length).toBeGreaterThan(40);
  });
});
