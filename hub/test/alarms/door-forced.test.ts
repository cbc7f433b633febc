import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule door-forced', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  it('raises a high alarm on door.forced, with the device context', () => {
    const e = h.event('door-1', 'door.forced', { door: 1 });
    const a = h.only('door.forced');
    expect(a).toMatchObject({ rule: 'door-forced', priority: 'high', state: 'raised', latching: false, device: 'door-1', gateway: 'gw-1', building: 'lib', zone: 'lib-1f', count: 1 });
    expect(a.title).toContain('Library east door');
    expect(h.repo.timeline(a.id)[0]).toMatchObject({ kind: 'raised', eventId: e.id });
    expect(h.emitted).toHaveLength(1);
  });

  it('stays quiet on normal door traffic', () => {
    for (let i = 0; i < 20; i++) {
      h.event('door-1', 'access.granted', { method: 'card', credential: `c${i}` });
      h.event('door-1', 'door.opened');
      h.event('door-1', 'door.closed');
    }
    expect(h.all()).toEqual([]);
  });

  it('a storm of forced events while open is one alarm with a count', () => {
    for (let i = 0; i < 50; i++) h.event('door-1', 'door.forced', {}, h.now + i);
    const a = h.only('door.forced');
    expect(a.count).toBe(50);
    expect(a.lastAt).toBe(h.now + 49);
    expect(h.repo.timeline(a.id).filter((t) => t.kind === 'repeated')).toHaveLength(49);
  });

  it('the door closing marks the condition cleared but does not resolve unless configured', () => {
    h.event('door-1', 'door.forced');
    h.event('door-1', 'door.closed');
    expect(h.only('door.forced')).toMatchObject({ state: 'raised', conditionCleared: true });
  });

  it('acknowledge, resolve and escalation', () => {
    h.event('door-1', 'door.forced');
    expectLifecycle(h, h.only('door.forced'));
    // Resolved: the next forced opening is a new alarm.
    h.event('door-1', 'door.forced');
    expect(h.all().filter((a) => a.type === 'door.forced')).toHaveLength(2);
  });
});
