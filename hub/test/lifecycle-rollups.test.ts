import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnergyRollupStore } from '../src/energy/rollup-store.ts';
import { LifecycleModule } from '../src/lifecycle/module.ts';
import { startModules, type StartedModules } from '../src/module.ts';
import { moduleContext, type TestContext } from './module-context.ts';

const DAY = 86_400_000;
const MIN15 = 15 * 60_000;
/** The hub clock of this test: any date works, every age is relative to it. */
const NOW = Date.UTC(2027, 2, 10, 12, 0, 0);

/**
 * Retention of energy rollups (retention.telemetryRollups): the lifecycle module's prune job reaches energy.duckdb
 * through the hook hub.ts hands it (LifecycleOptions.pruneRollups → EnergyService.pruneRollups → EnergyRollupStore).
 * A real DuckDB file; meter and node quarter hours just older than the retention go, just newer stay.
 */
describe('data lifecycle: energy rollup retention', () => {
  let t: TestContext;
  let dir: string;
  let store: EnergyRollupStore;
  let modules: StartedModules | undefined;
  beforeEach(async () => {
    t = await moduleContext({ retention: { telemetryRollups: 100, minFreeBytes: 0, minFreePercent: 0 } }, NOW);
    dir = mkdtempSync(join(tmpdir(), 'warden-rollups-'));
    store = await EnergyRollupStore.open(join(dir, 'energy.duckdb'));
  });
  afterEach(async () => {
    await modules?.stop();
    modules = undefined;
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('prunes quarter hours older than retention.telemetryRollups days, keeps the newer, and counts them', async () => {
    const old = NOW - 101 * DAY;
    const kept = NOW - 99 * DAY;
    const quarter = (start: number) => ({ start, amount: 5, flags: [] });
    store.append([0, 1, 2, 3].map((i) => ({ meter: 'pm-a', bucket: quarter(old + i * MIN15) })));
    store.append([0, 1].map((i) => ({ meter: 'pm-a', bucket: quarter(kept + i * MIN15) })));
    store.appendNodes([0, 1].map((i) => ({ node: 'campus', medium: 'power', bucket: quarter(old + i * MIN15) })));
    store.appendNodes([{ node: 'campus', medium: 'power', bucket: quarter(kept) }]);

    const lifecycle = new LifecycleModule({ pruneRollups: (before) => store.pruneBefore(before) });
    modules = await startModules([lifecycle], t.ctx);
    const out = await lifecycle.runOnce();
    // The run at start may have done it already; together the two runs removed exactly the six old rows.
    const metric = (await t.ctx.metrics.registry.getSingleMetric('warden_hub_retention_pruned_total')!.get()).values.find((v) => v.labels.class === 'telemetry_rollups')!.value;
    expect(metric).toBe(6);
    expect(out.telemetry_rollups).toBeLessThanOrEqual(6);
    const left = await store.series(['pm-a'], NOW - 200 * DAY, NOW, '15m', 0);
    expect(left.map((r) => r.start)).toEqual([kept, kept + MIN15]);
    // A second run finds nothing more.
    expect((await lifecycle.runOnce()).telemetry_rollups).toBe(0);
  });
});
