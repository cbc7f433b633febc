import { describe, expect, it } from 'vitest';
import Value from 'typebox/value';
import { DEVICE_KINDS, DeviceInfoSchema, isValidGatewayId } from '@warden/contract';
import { campusPlan, deviceType, scenarioFromPlan, type CampusPlan, type PlanDevice } from '../src/index.ts';

const devicesOf = (plan: CampusPlan): PlanDevice[] => plan.gateways.flatMap((g) => g.devices);

describe('campusPlan', () => {
  it('is deterministic for a scale and seed', () => {
    expect(campusPlan()).toEqual(campusPlan({ scale: 'demo' }));
    expect(campusPlan({ scale: 'full', seed: 7 })).toEqual(campusPlan({ scale: 'full', seed: 7 }));
    // Another seed varies counts within their ranges, never the layout's fixed numbers.
    expect(devicesOf(campusPlan({ scale: 'full', seed: 7 })).length).not.toBe(devicesOf(campusPlan({ scale: 'full', seed: 8 })).length);
  });

  for (const scale of ['demo', 'full'] as const) {
    it(`${scale}: ids are unique and every device is a valid contract device of a simulated type`, () => {
      const plan = campusPlan({ scale });
      const gwIds = plan.gateways.map((g) => g.id);
      expect(new Set(gwIds).size).toBe(gwIds.length);
      expect(gwIds.every(isValidGatewayId)).toBe(true);
      const devices = devicesOf(plan);
      expect(new Set(devices.map((d) => d.id)).size).toBe(devices.length);
      for (const d of devices) {
        const info = { id: d.id, kind: d.kind, driver: d.driver, name: d.name, building: d.building, ...(d.zone ? { zone: d.zone } : {}), ...(d.medium ? { medium: d.medium } : {}) };
        expect(Value.Check(DeviceInfoSchema, info), `${d.id}: ${JSON.stringify([...Value.Errors(DeviceInfoSchema, info)])}`).toBe(true);
        expect(DEVICE_KINDS).toContain(d.kind);
        expect(deviceType(d.driver)?.kind).toBe(d.kind);
        expect(d.name).toMatch(/[\u4e00-\u9fff].* · [A-Za-z]/);
      }
      for (const g of plan.gateways) expect(g.devices.every((d) => d.building === g.building)).toBe(true);
      // Every option in the plan is one the simulator accepts (scenarioFromPlan validates them).
      expect(() => scenarioFromPlan(plan, Object.fromEntries(gwIds.map((id, i) => [id, `mqtt://127.0.0.1:${20000 + i}`])))).not.toThrow();
    });
  }

  it('demo: about five gateways with 10-15 devices each, every device type present', () => {
    const plan = campusPlan({ scale: 'demo' });
    expect(plan.gateways.length).toBe(5);
    for (const g of plan.gateways) {
      expect(g.devices.length).toBeGreaterThanOrEqual(10);
      expect(g.devices.length).toBeLessThanOrEqual(15);
    }
    expect(new Set(devicesOf(plan).map((d) => d.driver))).toEqual(
      new Set(['door-controller', 'turnstile', 'fire-sensor', 'emergency-post', 'intrusion-zone', 'meter', 'relay-actuator', 'face-terminal']),
    );
    // The face terminal opens the chemistry lab's face-reader door on the same gateway.
    const face = devicesOf(plan).find((d) => d.driver === 'face-terminal')!;
    expect(face.edge).toMatchObject({ mode: 'access', door: 'door-lab-1-3' });
    expect(devicesOf(plan).find((d) => d.id === 'door-lab-1-3')?.options?.reader).toBe('face');
    expect(devicesOf(plan).map((d) => d.id)).toContain('door-lib-1');
  });

  it('full: the numbers of the seed plan (17 alarm systems, 4 emergency posts, 180 dorm check-in points, 10 lab face doors)', () => {
    for (const seed of [2021, 1, 99]) {
      const devices = devicesOf(campusPlan({ scale: 'full', seed }));
      const panels = new Set(devices.filter((d) => d.driver === 'intrusion-zone').map((d) => d.options?.panel));
      expect(panels.size).toBe(17);
      expect(devices.filter((d) => d.driver === 'emergency-post')).toHaveLength(4);
      expect(devices.filter((d) => d.driver === 'turnstile' && d.options?.profile === 'dorm')).toHaveLength(180);
      const faceDoors = devices.filter((d) => d.driver === 'door-controller' && d.options?.reader === 'face');
      expect(faceDoors).toHaveLength(10);
      expect(faceDoors.every((d) => d.building.startsWith('lab-'))).toBe(true);
      // Believable building equipment for ~30,000 people: hundreds of doors, a thousand-odd detectors, meters per building.
      const count = (driver: string): number => devices.filter((d) => d.driver === driver).length;
      expect(count('door-controller')).toBeGreaterThan(100);
      expect(count('fire-sensor')).toBeGreaterThan(800);
      expect(count('meter')).toBeGreaterThan(80);
      expect(devices.filter((d) => d.medium === 'gas').length).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('scenarioFromPlan', () => {
  it('maps drivers to device types and carries the meter medium into the options', () => {
    const plan = campusPlan();
    const urls = Object.fromEntries(plan.gateways.map((g, i) => [g.id, `mqtt://127.0.0.1:${1884 + i}`]));
    const s = scenarioFromPlan(plan, urls, { speed: 10 });
    expect(s.speed).toBe(10);
    expect(s.gateways.map((g) => g.url)).toEqual(Object.values(urls));
    const water = s.gateways.flatMap((g) => g.devices).find((d) => d.id === 'meter-lib-water')!;
    expect(water).toMatchObject({ type: 'meter', building: 'library', options: { medium: 'water' } });
  });

  it('refuses a plan with a gateway that has no field URL', () => {
    const plan = campusPlan();
    expect(() => scenarioFromPlan(plan, { 'gw-lib': 'mqtt://127.0.0.1:1884' })).toThrow(/no field broker URL for gateway\(s\) gw-teach-a/);
  });

  it('accepts a hand-made plan (as the benchmarks build)', () => {
    const plan: CampusPlan = { gateways: [{ id: 'gw-bench', name: 'Bench', building: 'bench', devices: [{ id: 'door-b0', driver: 'door-controller', kind: 'door', name: 'Door 0', building: 'bench' }] }] };
    expect(scenarioFromPlan(plan, { 'gw-bench': 'mqtt://127.0.0.1:1' }).gateways[0]!.devices).toEqual([{ id: 'door-b0', type: 'door-controller', name: 'Door 0', building: 'bench' }]);
  });
});
