import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule door-held-open', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness({ heldOpenSeconds: 30 })));
  afterEach(() => h.close());

  it('raises when door.opened has no door.closed within heldOpenSeconds', () => {
    h.event('door-1', 'door.opened');
    h.advance(29_000);
    expect(h.all()).toEqual([]);
    h.advance(1_000);
    const a = h.only('door.held_open');
    expect(a).toMatchObject({ priority: 'medium', firstAt: h.now, latching: false });
  });

  it('raises at once on a controller door.held_open event', () => {
    h.event('door-2', 'door.held_open', { seconds: 90 });
    expect(h.only('door.held_open').device).toBe('door-2');
  });

  it('stays quiet when doors close in time', () => {
    for (let i = 0; i < 10; i++) {
      h.event('door-1', 'door.opened');
      h.advance(20_000);
      h.event('door-1', 'door.closed');
      h.advance(60_000);
    }
    expect(h.all()).toEqual([]);
  });

  it('auto-resolves on door.closed when configured', async () => {
    const g = await alarmHarness({ heldOpenSeconds: 30, autoResolve: ['door.held_open'] });
    try {
      g.event('door-1', 'door.held_open', { seconds: 31 });
      g.event('door-1', 'door.closed');
      const a = g.only('door.held_open');
      expect(a).toMatchObject({ state: 'resolved', conditionCleared: true, resolvedBy: 'system:alarms' });
      expect(g.repo.timeline(a.id).map((t) => t.kind)).toEqual(['raised', 'condition_cleared', 'auto_resolved']);
      expect(g.audit.list(10).some((e) => e.action === 'alarm.auto_resolve' && e.target === a.id)).toBe(true);
    } finally {
      await g.close();
    }
  });

  it('without autoResolve, closing only marks the condition cleared; lifecycle', () => {
    h.event('door-1', 'door.held_open', { seconds: 31 });
    h.event('door-1', 'door.closed');
    const a = h.only('door.held_open');
    expect(a).toMatchObject({ state: 'raised', conditionCleared: true });
    expectLifecycle(h, a);
  });
});
