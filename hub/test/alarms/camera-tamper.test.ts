import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule camera-tamper', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  it('raises a high latching alarm when a camera reports tamper; the scene back to normal only marks the condition cleared', () => {
    h.event('cam-1', 'camera.tamper', { state: true });
    expect(h.only('camera.tamper')).toMatchObject({ priority: 'high', latching: true, state: 'raised', zone: 'lib-1f', conditionCleared: false });
    h.event('cam-1', 'camera.tamper', { state: false });
    expect(h.only('camera.tamper')).toMatchObject({ state: 'raised', conditionCleared: true });
  });

  it('stays quiet on motion and on a tamper end without a start', () => {
    h.event('cam-2', 'camera.motion', { state: true });
    h.event('cam-2', 'camera.tamper', { state: false });
    expect(h.all()).toEqual([]);
  });

  it('acknowledge, resolve and escalation', () => {
    h.event('cam-2', 'camera.tamper', { state: true });
    expectLifecycle(h, h.only('camera.tamper'));
  });
});
