import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHubConfig } from '@warden/hub';
import { loadEdgeConfig } from '@warden/edge';
import { campusPlan, loadScenario } from '@warden/simulators';
import { writeSystemLayout } from '../src/layout.ts';

/** What `npm start` writes must be accepted by each component's own config loader, for both campus scales. */
describe('system layout', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  for (const scale of ['demo', 'full'] as const) {
    it(`writes configs the hub, every edge agent and the simulator accept (${scale} campus)`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'warden-layout-'));
      dirs.push(dir);
      const plan = campusPlan({ scale });
      const layout = writeSystemLayout(plan, { dataDir: dir, httpPort: 18080, mqttPort: 11883, fieldPortBase: 20000, adminPassword: 'layout-test-pw' });
      const hub = loadHubConfig(layout.hubConfig, {});
      expect(hub.gateways.map((g) => g.id).sort()).toEqual(plan.gateways.map((g) => g.id).sort());
      const meters = plan.gateways.flatMap((g) => g.devices.filter((d) => d.driver === 'meter'));
      expect(hub.energy.meters.map((m) => m.id).sort()).toEqual(meters.map((m) => m.id).sort());
      expect(hub.energy.schedules.length).toBeGreaterThan(0);
      for (const g of plan.gateways) {
        const edge = loadEdgeConfig(layout.edgeConfigs.get(g.id)!, {});
        expect(edge.devices.length).toBe(g.devices.length);
        expect(edge.hub.password).toBe(layout.gatewayPasswords[g.id]);
      }
      expect(loadScenario(layout.scenario).gateways.length).toBe(plan.gateways.length);
    });
  }
});
