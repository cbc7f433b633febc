import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHubConfig } from '@warden/hub';
import { campusPlan } from '@warden/simulators';
import { writeSystemLayout } from '../src/layout.ts';
import { schematicSitePlan } from '../src/site-plan.ts';

describe('schematic site plan of a simulated campus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-site-plan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('places every door, turnstile and emergency post of the demo campus inside the plan, once each', () => {
    const plan = campusPlan({ scale: 'demo' });
    const site = schematicSitePlan(plan);
    const ids = site.markers.map((m) => m.device);
    expect(new Set(ids).size).toBe(ids.length);
    const security = plan.gateways.flatMap((g) => g.devices).filter((d) => ['door', 'turnstile', 'emergency_post', 'intrusion_zone'].includes(d.kind));
    expect(ids).toEqual(expect.arrayContaining(security.map((d) => d.id)));
    for (const m of site.markers) {
      expect(m.x).toBeGreaterThan(0);
      expect(m.x).toBeLessThan(site.width);
      expect(m.y).toBeGreaterThan(0);
      expect(m.y).toBeLessThan(site.height);
    }
    expect(site.svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });

  it('is written by the layout and accepted by the hub config; the full campus stays readable', () => {
    const layout = writeSystemLayout(campusPlan({ scale: 'full' }), { dataDir: dir, httpPort: 8080, mqttPort: 1883, fieldPortBase: 1884, adminPassword: 'site-plan-admin' });
    const hub = loadHubConfig(layout.hubConfig, {});
    expect(readFileSync(hub.site.plan!, 'utf8')).toContain('<svg');
    expect(hub.site.markers.length).toBeGreaterThan(100);
    expect(hub.site.markers.length).toBeLessThanOrEqual(51 * 40);
  });
});
