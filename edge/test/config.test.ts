import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeConfigError, loadEdgeConfig, parseEdgeConfig } from '../src/config.ts';
import { tempDir } from './helpers.ts';

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof EdgeConfigError) return [...err.errors];
    throw err;
  }
  throw new Error('expected an EdgeConfigError');
}

describe('edge config', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.remove());

  it('fills defaults and resolves relative paths against the config file', () => {
    const file = join(tmp.dir, 'gw.yaml');
    writeFileSync(
      file,
      [
        'gateway: { id: gw-library, name: Library }',
        'hub: { password: s3cret }',
        'devices:',
        '  - { id: door-lib-1, driver: door-controller, name: Library main door, building: library, zone: z1, secret: door-lib-1-secret }',
        '  - { id: pm-lib, driver: meter, secret: pm-lib-secret, options: { medium: power } }',
      ].join('\n'),
    );
    const c = loadEdgeConfig(file, {});
    expect(c.hub).toEqual({ url: 'mqtt://127.0.0.1:1883', username: 'gw-library', password: 's3cret', keepaliveSeconds: 15, reconnectMs: 1000 });
    expect(c.field).toEqual({ host: '127.0.0.1', port: 1884, requireAuth: true, allowUnauthenticated: false, maxPacketBytes: 262144 });
    expect(c.outbox).toEqual({ path: join(tmp.dir, 'data/gw-library-outbox.db'), batchSize: 200, maxInFlightBatches: 4, retryMs: 5000, maxRecords: 1_000_000, maxBytes: 268_435_456, synchronous: 'normal' });
    expect(c.metrics).toEqual({ enabled: false, host: '127.0.0.1', port: 0, statusIntervalSeconds: 10 });
    expect(c.commands).toEqual({ timeoutMs: 10000 });
    expect(c.devices[0]!.options).toEqual({ unlockSeconds: 5 });
    expect(c.devices[1]!.options).toEqual({ medium: 'power' });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('lists every error with its path', () => {
    const errors = errorsOf(() =>
      parseEdgeConfig(
        {
          gateway: { id: 'GW Library', colour: 'blue' },
          hub: { url: 'http://hub', keepaliveSeconds: 1 },
          field: { port: 70000, requireAuth: false },
          outbox: { synchronous: 'off' },
          devices: [
            { id: 'door-lib-1', driver: 'door-controller' },
            { id: 'door-lib-1', driver: 'door-controller' },
            { id: 'm1', driver: 'meter' },
            { id: 'x', driver: 'dor-controller' },
            { id: 'm2', driver: 'meter', options: { medium: 'steam', scale: 2 } },
            { id: 'Bad Id', driver: 'turnstile' },
          ],
          extra: true,
        },
        'gw.yaml',
        { env: {} },
      ),
    );
    expect(errors).toEqual(
      expect.arrayContaining([
        'extra: unknown key (known: gateway, hub, field, outbox, metrics, commands, failsafe, face, cameras, devices)',
        'gateway/colour: unknown key (known: id, name)',
        expect.stringMatching(/^gateway\/id: "GW Library" must be 1-64 of a-z/),
        expect.stringMatching(/^hub\/url: "http:\/\/hub" must be an MQTT URL/),
        'hub/keepaliveSeconds: must be >= 5',
        'field/port: must be <= 65535',
        'outbox/synchronous: "off" is not one of normal, full',
        'devices/1/id: duplicate device id "door-lib-1" (also devices/0)',
        'devices/2/options/medium: required',
        // The list grows with every new driver; it must name them all, starting with the first registered.
        expect.stringMatching(/^devices\/3\/driver: unknown driver "dor-controller" \(known: door-controller, turnstile, .*meter, .*relay-actuator.*\)$/),
        'devices/4/options/medium: "steam" is not one of power, water, gas',
        'devices/4/options/scale: unknown key (known: medium)',
        expect.stringMatching(/^devices\/5\/id: "Bad Id" must be 1-128 of a-z/),
      ]),
    );
    expect(errors).toHaveLength(13);
  });

  it('requires device secrets when field auth is on', () => {
    expect(
      errorsOf(() => parseEdgeConfig({ gateway: { id: 'gw' }, field: { requireAuth: true }, devices: [{ id: 'd1', driver: 'turnstile' }, { id: 'd2', driver: 'turnstile', secret: 'long-enough' }] })),
    ).toEqual(['devices/0/secret: required because field.requireAuth is true']);
  });

  it('does not ask a polled device (modbus-tcp transport) for a field secret: it never logs in', () => {
    const cfg = parseEdgeConfig({ gateway: { id: 'gw' }, field: { requireAuth: true }, devices: [{ id: 'm1', driver: 'modbus-meter', options: { medium: 'power', host: '10.0.0.9', map: 'sdm630' } }] });
    expect(cfg.devices[0]!.secret).toBeUndefined();
  });

  it('takes the hub password from the config, a file, or WARDEN_GATEWAY_PASSWORD', () => {
    writeFileSync(join(tmp.dir, 'pw'), 'from-file\n');
    const base = { gateway: { id: 'gw' } };
    expect(parseEdgeConfig({ ...base, hub: { passwordFile: 'pw' } }, 'x', { baseDir: tmp.dir, env: {} }).hub.password).toBe('from-file');
    expect(parseEdgeConfig(base, 'x', { env: { WARDEN_GATEWAY_PASSWORD: 'from-env' } }).hub.password).toBe('from-env');
    expect(parseEdgeConfig({ ...base, hub: { password: 'inline' } }, 'x', { env: { WARDEN_GATEWAY_PASSWORD: 'from-env' } }).hub.password).toBe('inline');
    expect(errorsOf(() => parseEdgeConfig({ ...base, hub: { passwordFile: 'missing' } }, 'x', { baseDir: tmp.dir }))).toEqual([
      `hub/passwordFile: cannot read ${join(tmp.dir, 'missing')}: ENOENT`,
    ]);
    expect(errorsOf(() => parseEdgeConfig({ ...base, hub: { password: 'a', passwordFile: 'pw' } }, 'x', { baseDir: tmp.dir }))).toEqual([
      'hub: give password or passwordFile, not both',
    ]);
  });

  it('reports unreadable files and bad YAML as config errors', () => {
    expect(errorsOf(() => loadEdgeConfig(join(tmp.dir, 'nope.yaml')))).toEqual(['cannot read the file: ENOENT']);
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'gateway: { id: [\n');
    expect(errorsOf(() => loadEdgeConfig(bad))[0]).toMatch(/^not valid YAML/);
    writeFileSync(bad, '- just\n- a list\n');
    expect(errorsOf(() => loadEdgeConfig(bad))[0]).toMatch(/^\(root\): must be a mapping/);
  });
});
