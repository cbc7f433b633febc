import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule device-offline', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness({ offlineDebounceSeconds: 45, autoResolve: ['device.offline'] })));
  afterEach(() => h.close());

  it('raises after the debounce when the device stays offline', () => {
    h.event('door-9', 'device.offline', { reason: 'no answer' });
    h.advance(44_000);
    expect(h.all()).toEqual([]);
    h.advance(1_000);
    expect(h.only('device.offline')).toMatchObject({ device: 'door-9', priority: 'medium', building: 'dorm' });
  });

  it('a fire sensor or camera going silent is trouble', () => {
    h.event('smoke-1', 'device.offline');
    h.event('cam-1', 'device.offline');
    h.advance(45_000);
    expect(h.all().map((a) => [a.type, a.device]).sort()).toEqual([
      ['device.trouble', 'cam-1'],
      ['device.trouble', 'smoke-1'],
    ]);
  });

  it('stays quiet on a flap shorter than the debounce', () => {
    for (let i = 0; i < 10; i++) {
      h.event('door-9', 'device.offline');
      h.advance(10_000);
      h.event('door-9', 'device.online');
      h.advance(60_000);
    }
    expect(h.all()).toEqual([]);
  });

  it('auto-resolves on device.online when configured; trouble (not in autoResolve) stays raised', () => {
    h.event('door-9', 'device.offline');
    h.event('cam-1', 'device.offline');
    h.advance(45_000);
    h.event('door-9', 'device.online');
    h.event('cam-1', 'device.online');
    expect(h.only('device.offline').state).toBe('resolved');
    expect(h.only('device.trouble')).toMatchObject({ state: 'raised', conditionCleared: true });
  });

  it('acknowledge, resolve and escalation', () => {
    h.event('door-9', 'device.offline');
    h.advance(45_000);
    expectLifecycle(h, h.only('device.offline'));
  });
});
