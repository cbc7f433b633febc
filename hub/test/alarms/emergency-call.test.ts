import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule emergency-call', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  it('raises a critical latching alarm when a post is pressed', () => {
    h.event('sos-1', 'emergency.call', { button: 'main' });
    expect(h.only('emergency.call')).toMatchObject({ priority: 'critical', latching: true });
  });

  it('latches: emergency.cleared does not resolve it, even when auto-resolve is asked for other types', () => {
    h.event('sos-1', 'emergency.call');
    h.event('sos-1', 'emergency.cleared');
    expect(h.only('emergency.call')).toMatchObject({ state: 'raised', conditionCleared: true });
  });

  it('stays quiet on a clear without a call', () => {
    h.event('sos-1', 'emergency.cleared');
    h.event('sos-1', 'device.online');
    expect(h.all()).toEqual([]);
  });

  it('acknowledge, resolve and escalation', () => {
    h.event('sos-1', 'emergency.call');
    expectLifecycle(h, h.only('emergency.call'));
  });
});
