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

  it('a door released on purpose (confirmed door.hold_open) is not an alarm until it is back to normal', () => {
    h.event('door-1', 'command.result', { command: 'c1', action: 'door.hold_open', ok: true });
    h.event('door-1', 'door.opened');
    h.event('door-1', 'door.held_open', { seconds: 600 });
    h.advance(600_000);
    expect(h.all()).toEqual([]);
    h.event('door-1', 'command.result', { command: 'c2', action: 'door.normal', ok: true });
    h.event('door-1', 'door.closed');
    h.event('door-1', 'door.opened');
    h.advance(30_000);
    expect(h.only('door.held_open').device).toBe('door-1');
  });

  it('a refused hold-open command does not silence the door', () => {
    h.event('door-2', 'command.result', { command: 'c1', action: 'door.hold_open', ok: false, error: 'jammed' });
    h.event('door-2', 'door.opened');
    h.advance(30_000);
    expect(h.only('door.held_open').device).toBe('door-2');
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
