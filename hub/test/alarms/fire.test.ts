import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule fire', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness({ autoResolve: ['fire.trouble'] })));
  afterEach(() => h.close());

  it('raises a critical latching alarm on fire.alarm', () => {
    h.event('smoke-1', 'fire.alarm', { smoke: 0.4 });
    expect(h.only('fire.alarm')).toMatchObject({ priority: 'critical', latching: true, state: 'raised', building: 'lib' });
  });

  it('latches: fire.cleared only marks the condition cleared, and a new alarm event counts on the same alarm', () => {
    h.event('smoke-1', 'fire.alarm');
    h.event('smoke-1', 'fire.cleared');
    h.advance(3_600_000);
    const a = h.only('fire.alarm');
    expect(a).toMatchObject({ state: 'raised', conditionCleared: true });
    h.event('smoke-1', 'fire.alarm');
    expect(h.only('fire.alarm')).toMatchObject({ count: 2, conditionCleared: false });
  });

  it('a fault is trouble (high, not latching)', () => {
    h.event('smoke-1', 'fire.fault', { fault: 'chamber dirty' });
    expect(h.only('fire.trouble')).toMatchObject({ priority: 'high', latching: false });
  });

  it('stays quiet on telemetry-like and clearing traffic', () => {
    h.event('smoke-1', 'fire.cleared');
    h.event('smoke-1', 'device.online');
    h.event('meter-1', 'actuator.state', { on: true });
    expect(h.all()).toEqual([]);
  });

  it('acknowledge, resolve and escalation (2 min for critical)', () => {
    h.event('smoke-1', 'fire.alarm');
    expectLifecycle(h, h.only('fire.alarm'));
  });
});
