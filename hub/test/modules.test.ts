import { afterEach, describe, expect, it } from 'vitest';
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
