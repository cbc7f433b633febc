import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseHubConfig, startHub } from '../src/index.ts';
import { startModules, type HubContext, type HubModule } from '../src/module.ts';
import { moduleContext, type TestContext } from './module-context.ts';

/** The module lifecycle of startHub (src/module.ts): one ordered list, stopped in reverse, a failed start undone. */
let t: TestContext | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function recording(log: string[], name: string, opts: { failStart?: boolean; failStop?: boolean } = {}): HubModule {
  return {
    name,
    async start(ctx: HubContext) {
      log.push(`start ${name}`);
      // Each module gets the hub's context with its own logger.
      expect(ctx.log.bindings()).toMatchObject({ module: name });
      if (opts.failStart) throw new Error(`${name} cannot start`);
    },
    async stop() {
      log.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} cannot stop`);
    },
  };
}

describe('hub modules', () => {
  it('start in list order and stop in reverse, once', async () => {
    t = await moduleContext();
    const log: string[] = [];
    const started = await startModules([recording(log, 'a'), recording(log, 'b'), recording(log, 'c')], t.ctx);
    expect(log).toEqual(['start a', 'start b', 'start c']);
    await Promise.all([started.stop(), started.stop()]);
    expect(log.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
  });

  it('a failed start stops that module and the ones started before it, in reverse, and throws its error', async () => {
    t = await moduleContext();
    const log: string[] = [];
    await expect(startModules([recording(log, 'a'), recording(log, 'b'), recording(log, 'c', { failStart: true }), recording(log, 'd')], t.ctx)).rejects.toThrow(
      'c cannot start',
    );
    expect(log).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('a failing stop does not keep the others running', async () => {
    t = await moduleContext();
    const log: string[] = [];
    const started = await startModules([recording(log, 'a'), recording(log, 'b', { failStop: true }), recording(log, 'c')], t.ctx);
    await started.stop();
    expect(log.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
  });

  it('refuses two modules of one name', async () => {
    t = await moduleContext();
    await expect(startModules([recording([], 'a'), recording([], 'a')], t.ctx)).rejects.toThrow('two hub modules are named a');
  });
});

describe('startHub with its modules', () => {
  it('a module that cannot start (the HTTP port is taken) stops the ones before it: broker port and data dir are free again', async () => {
    const listen = (port: number) =>
      new Promise<Server>((resolve, reject) => {
        const s = createServer();
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve(s));
      });
    const close = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));
    const taken = await listen(0);
    const httpPort = (taken.address() as { port: number }).port;
    const probe = await listen(0);
    const mqttPort = (probe.address() as { port: number }).port;
    await close(probe);
    const dir = await mkdtemp(join(tmpdir(), 'warden-modules-'));
    const config = (http: number) => parseHubConfig({ http: { port: http }, mqtt: { port: mqttPort }, dataDir: dir, admin: { password: 'test-admin-password' }, dashboard: { dir: join(dir, 'no-dist') } });
    try {
      await expect(startHub(config(httpPort), { logger: false })).rejects.toThrow(/EADDRINUSE/);
      // The broker started before the modules is closed again: its port can be bound.
      await close(await listen(mqttPort));
      // state.db, telemetry.duckdb and energy.duckdb were closed: the same data dir starts a hub at once.
      const hub = await startHub(config(0), { logger: false });
      expect((await fetch(`${hub.httpUrl}/api/health`)).status).toBe(200);
      await hub.stop();
    } finally {
      await close(taken);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
