import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadScenario, parseScenario, runScenario, type Scenario, type TimelineEntry } from '../src/index.ts';
import { SCENARIO_DIR, shippedScenarios } from '../src/cli.ts';
import { doorEvents, record, silent, startBroker, type TestBroker } from './helpers.ts';
import { assertNative } from './native-formats.ts';

let broker: TestBroker;
let dir: string;
beforeAll(async () => {
  broker = await startBroker();
  dir = await mkdtemp(join(tmpdir(), 'warden-sim-scenario-'));
});
afterAll(async () => {
  await broker.close();
  await rm(dir, { recursive: true, force: true });
});

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('scenario files', () => {
  it('ships the three illustrative scenarios, all valid', () => {
    expect(shippedScenarios()).toEqual(expect.arrayContaining(['device-drop', 'fire-drill', 'forced-door-at-night']));
    for (const name of shippedScenarios()) {
      const s = loadScenario(join(SCENARIO_DIR, `${name}.yaml`), { env: { WARDEN_FIELD_URL: 'mqtt://10.0.0.5:1884' } });
      expect(s.gateways[0]!.url).toBe('mqtt://10.0.0.5:1884');
      expect(s.timeline!.length).toBeGreaterThan(0);
    }
  });

  it('reports every problem with its path', () => {
    const yaml = `
name: broken
colour: blue
gateways:
  - id: gw-1
    url: \${NO_SUCH_VAR}
    secrets: { ghost-1: x }
    devices:
      - { id: door-1, type: door-controller, options: { denyRate: 3 } }
      - { id: door-1, type: turnstile }
      - { id: heater-1, type: toaster }
timeline:
  - { at: 5 minutes, device: door-1, do: force }
  - { at: 1s, device: door-9, do: force }
  - { at: 2s, device: door-1, do: fly }
`;
    // The shape is checked first: an unknown top-level key stops there.
    expect(problems(() => parseScenario(yaml, 'broken.yaml', {}))).toEqual(['/: must not have additional properties (colour)']);
    const p = problems(() => parseScenario(yaml.replace('colour: blue\n', '').replace('5 minutes', '5m'), 'broken.yaml', {}));
    expect(p).toEqual(
      expect.arrayContaining([
        '/gateways/0/url: environment variable NO_SUCH_VAR is not set and has no default',
        '/gateways/0/secrets/ghost-1: no device ghost-1 on this gateway',
        '/gateways/0/devices/0/options/denyRate: must be <= 1',
        '/gateways/0/devices/1/id: device door-1 is already defined at /gateways/0/devices/0',
        expect.stringMatching(/^\/gateways\/0\/devices\/2\/type: unknown device type "toaster"/),
        '/timeline/1/device: no device "door-9" in this scenario',
        expect.stringMatching(/^\/timeline\/2\/do: door-controller has no action "fly"; known: pass, force/),
      ]),
    );
    expect(problems(() => parseScenario('gateways: [ { id: gw, url: "x:', 'bad.yaml'))[0]).toMatch(/line 1/);
    expect(problems(() => parseScenario('gateways:\n  - { id: gw-1, url: "http://x", devices: [] }', 'u.yaml', {}))).toEqual([
      '/gateways/0/url: "http://x" is not an MQTT URL (mqtt://host:port, mqtts://, tcp://, tls://, ws://, wss://)',
    ]);
  });
});

describe('runScenario', () => {
  it('connects every device, then plays the timeline in order', async () => {
    const rec = await record(broker.url);
    const scenario: Scenario = {
      name: 'test-timeline',
      speed: 50,
      gateways: [
        {
          id: 'gw-test',
          url: broker.url,
          devices: [
            { id: 'door-r1', type: 'door-controller', options: { behave: false } },
            { id: 'smoke-r1', type: 'fire-sensor', options: { behave: false } },
            { id: 'gate-r1', type: 'turnstile', options: { behave: false } },
          ],
        },
      ],
      timeline: [
        { at: '2s', device: 'smoke-r1', do: 'alarm' },
        { at: '500ms', device: 'door-r1', do: 'force', arg: 1 },
        { at: '3s', device: 'gate-r1', do: 'dropOff' },
      ],
    };
    const ran: Array<[TimelineEntry, Error | undefined]> = [];
    const running = await runScenario(scenario, { logger: silent, onAction: (e, err) => ran.push([e, err]) });
    expect([...running.devices.keys()]).toEqual(['door-r1', 'smoke-r1', 'gate-r1']);
    expect([...running.devices.values()].every((d) => d.connected)).toBe(true);
    await running.done;
    expect(ran.map(([e, err]) => [e.device, e.do, err])).toEqual([
      ['door-r1', 'force', undefined],
      ['smoke-r1', 'alarm', undefined],
      ['gate-r1', 'dropOff', undefined],
    ]);
    await rec.waitFor((m) => m.topic === 'avail/gate-r1' && m.text === 'offline', 'gate will');
    await rec.waitFor((m) => m.topic === 'fire/smoke-r1/state' && m.json.alarm === true, 'alarm state');
    expect(doorEvents(rec, 'door-r1')[0]).toBe('FORCED_OPEN');
    await running.stop();
    assertNative(rec.messages);
    await rec.close();
  });

  it('runs a shipped scenario end to end against a broker', async () => {
    const rec = await record(broker.url);
    const s = loadScenario(join(SCENARIO_DIR, 'forced-door-at-night.yaml'), { env: { WARDEN_FIELD_URL: broker.url } });
    const failures: string[] = [];
    const running = await runScenario(s, { speed: 200, logger: silent, onAction: (e, err) => err && failures.push(`${e.do}: ${err.message}`) });
    await running.done;
    expect(failures).toEqual([]);
    await rec.waitForCount((m) => m.topic === 'acs/door-lib-3/event' && m.json.event === 'CARD_DENIED', 5, 'denied burst');
    await rec.waitFor((m) => m.topic === 'acs/door-lib-3/event' && m.json.event === 'FORCED_OPEN', 'forced');
    await rec.waitFor((m) => m.topic === 'ias/ias-lib-1-z1/zone' && m.json.status === 'ALARM', 'intrusion alarm');
    await rec.waitFor((m) => m.topic === 'gate/gate-lib-1/pass' && m.json.auth === false, 'jump');
    await running.stop();
    expect(rec.on('avail/door-lib-1').at(-1)?.text).toBe('offline');
    assertNative(rec.messages);
    await rec.close();
  });

  it('refuses an invalid scenario before connecting anything', async () => {
    const bad = { gateways: [{ id: 'gw', url: broker.url, devices: [{ id: 'd1', type: 'door-controller' }] }], timeline: [{ at: '1s', device: 'd1', do: 'sing' }] };
    await expect(runScenario(bad, { logger: silent })).rejects.toThrow(/\/timeline\/0\/do: door-controller has no action "sing"/);
  });

  it('loads a scenario file from disk', async () => {
    const file = join(dir, 'one.yaml');
    await writeFile(file, `gateways:\n  - id: gw-x\n    url: mqtt://127.0.0.1:1884\n    devices:\n      - { id: meter-x, type: meter, options: { medium: gas } }\n`);
    expect(loadScenario(file).gateways[0]!.devices[0]!.options).toEqual({ medium: 'gas' });
    expect(() => loadScenario(join(dir, 'missing.yaml'))).toThrow(/cannot read scenario/);
  });
});
