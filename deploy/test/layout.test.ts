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
      const layout = writeSystemLayout(plan, { dataDir: dir, httpPort: 18080, mqttPort: 11883, fieldPortBase: 20000, adminPassword: 'layout-test-pw', cameras: { port: 18081, rtspPort: 18554 } });
      const hub = loadHubConfig(layout.hubConfig, {});
      expect(hub.gateways.map((g) => g.id).sort()).toEqual(plan.gateways.map((g) => g.id).sort());
      const meters = plan.gateways.flatMap((g) => g.devices.filter((d) => d.driver === 'meter'));
      expect(hub.energy.meters.map((m) => m.id).sort()).toEqual(meters.map((m) => m.id).sort());
      expect(hub.energy.schedules.length).toBeGreaterThan(0);
      for (const g of plan.gateways) {
        const edge = loadEdgeConfig(layout.edgeConfigs.get(g.id)!, {});
        const cams = layout.cameras.filter((c) => c.gateway === g.id);
        expect(edge.devices.length).toBe(g.devices.length + cams.length);
        // Every camera of the gateway with its ONVIF address and its own password (the secret in secrets.json).
        for (const c of cams) {
          const d = edge.devices.find((x) => x.id === c.id)!;
          expect(d.driver).toBe('onvif-camera');
          expect(d.options).toMatchObject({ xaddr: `http://127.0.0.1:18081/onvif/${c.id}/device_service`, password: layout.deviceSecrets[c.id] });
        }
        expect(edge.hub.password).toBe(layout.gatewayPasswords[g.id]);
      }
      const scenario = loadScenario(layout.scenario);
      expect(scenario.gateways.length).toBe(plan.gateways.length);
      // Cameras (issue 10): demo 2 per building at the doors (1F); full campus 1,311, live video for a handful.
      const cameras = hub.devices.registry.filter((d) => d.kind === 'camera');
      expect(cameras.length).toBe(scale === 'demo' ? 2 * plan.gateways.length : 1311);
      expect(new Set(cameras.map((c) => c.building))).toEqual(new Set(plan.gateways.map((g) => g.building)));
      if (scale === 'demo') expect(cameras.every((c) => c.zone === '1F')).toBe(true);
      const cameraScenario = loadScenario(layout.cameraScenario!);
      expect(cameraScenario.gateways.flatMap((g) => g.devices)).toEqual([]);
      expect(cameraScenario.cameras?.list.map((c) => c.id).sort()).toEqual(cameras.map((c) => c.id).sort());
      expect(Object.keys(hub.video.cameras).length).toBe(cameras.length);
      const live = Object.values(hub.video.cameras).filter((c) => c.url);
      expect(live.length).toBe(scale === 'demo' ? cameras.length : 8);
      if (scale === 'demo') expect(hub.video.snapshots.faceCameras).toEqual({ 'face-lab-1-1': 'cam-lab-1-1f-01' });
    });
  }
});
