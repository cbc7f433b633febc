import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule intrusion', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  it('raises a critical latching alarm on intrusion.alarm and a high latching one on tamper', () => {
    h.event('zone-1', 'intrusion.alarm', { zone: 'north' });
    h.event('zone-1', 'intrusion.tamper');
    expect(h.only('intrusion.alarm')).toMatchObject({ priority: 'critical', latching: true, zone: 'lib-1f' });
    expect(h.only('intrusion.tamper')).toMatchObject({ priority: 'high', latching: true });
  });

  it('latches: disarming marks the condition cleared only', () => {
    h.event('zone-1', 'intrusion.alarm');
    h.event('zone-1', 'intrusion.disarmed', { by: 'guard' });
    expect(h.only('intrusion.alarm')).toMatchObject({ state: 'raised', conditionCleared: true });
  });

  it('stays quiet on arming and disarming', () => {
    for (let i = 0; i < 5; i++) {
      h.event('zone-1', 'intrusion.armed');
      h.event('zone-1', 'intrusion.disarmed');
    }
    expect(h.all()).toEqual([]);
  });

  it('acknowledge, resolve and escalation', () => {
    h.event('zone-1', 'intrusion.alarm');
    expectLifecycle(h, h.only('intrusion.alarm'));
  });
});
