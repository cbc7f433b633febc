import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_DASHBOARD_DIR, durationMs, loadHubConfig, parseHubConfig } from '../src/config.ts';

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.errors;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('hub config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-hub-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('fills every default and freezes the result', () => {
    const c = parseHubConfig({});
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.mqtt).toEqual({ host: '127.0.0.1', port: 1883, websocketPath: '/mqtt', maxPacketBytes: 1_048_576 });
    expect(c.auth.tokenTtl).toBe('12h');
    expect(c.devices.autoRegister).toBe(true);
    expect(c.dashboard.dir).toBe(DEFAULT_DASHBOARD_DIR);
    expect(c.dataDir).toBe(join(process.cwd(), '.warden/hub'));
    expect(Object.isFrozen(c.http)).toBe(true);
  });

  it('rejects unknown keys and bad values, naming each path', () => {
    const errors = errorsOf(() =>
      parseHubConfig({ http: { port: 70000, hots: 'x' }, mqtt: { websocketPath: 'mqtt' }, extra: 1, users: [{ username: 'a', roles: ['root'], password: 'longenough' }] }),
    );
    expect(errors.join('\n')).toMatch(/\/http\/port/);
    expect(errors.join('\n')).toMatch(/\/http: .*hots/);
    expect(errors.join('\n')).toMatch(/\/mqtt\/websocketPath/);
    expect(errors.join('\n')).toMatch(/^\/: .*extra/m);
    expect(errors.join('\n')).toMatch(/\/users\/0\/roles\/0/);
  });

  it('refuses duplicate gateway ids and usernames', () => {
    const errors = errorsOf(() =>
      parseHubConfig({
        gateways: [
          { id: 'gw-1', password: 'password-1' },
          { id: 'gw-1', password: 'password-2' },
        ],
      }),
    );
    expect(errors).toEqual(['/gateways/1/id: duplicate gateway id gw-1']);
  });

  it('applies environment overrides only when given, and reports a bad one', () => {
    const env = { WARDEN_HTTP_PORT: '9000', WARDEN_MQTT_PORT: '0', WARDEN_DATA_DIR: join(dir, 'data'), WARDEN_ADMIN_PASSWORD: 'from-the-env' };
    const c = parseHubConfig({ http: { host: '0.0.0.0', allowInsecure: true } }, env);
    expect(c.http).toEqual({ host: '0.0.0.0', port: 9000, allowInsecure: true });
    expect(c.mqtt.port).toBe(0);
    expect(c.dataDir).toBe(join(dir, 'data'));
    expect(c.admin.password).toBe('from-the-env');
    expect(parseHubConfig({}).http.port).toBe(8080);
    expect(errorsOf(() => parseHubConfig({}, { WARDEN_HTTP_PORT: 'eighty' }))).toEqual(['env WARDEN_HTTP_PORT: "eighty" is not a TCP port (0-65535)']);
  });

  it('loads YAML, resolving relative paths against the file', async () => {
    const file = join(dir, 'hub.yaml');
    await writeFile(file, 'http: { port: 0 }\ndataDir: state\ndashboard: { dir: ../console }\ngateways:\n  - { id: gw-a, name: A, password: gateway-secret }\n');
    const c = loadHubConfig(file, {});
    expect(c.dataDir).toBe(join(dir, 'state'));
    expect(c.dashboard.dir).toBe(join(dir, '../console'));
    expect(c.gateways).toEqual([{ id: 'gw-a', name: 'A', password: 'gateway-secret' }]);
  });

  it('reports unreadable files and YAML syntax errors', async () => {
    expect(errorsOf(() => loadHubConfig(join(dir, 'missing.yaml'), {}))[0]).toMatch(/cannot read/);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'http: [1, 2\n');
    expect(errorsOf(() => loadHubConfig(bad, {}))[0]).toMatch(/^YAML:/);
  });

  it('parses durations', () => {
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('12h')).toBe(43_200_000);
    expect(durationMs('7d')).toBe(604_800_000);
    expect(() => durationMs('soon')).toThrow();
  });
});
