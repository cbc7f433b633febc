import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule turnstile-antipassback', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness({ escalation: { to: 'security', low: '10m' } })));
  afterEach(() => h.close());

  it('raises on two entries of one credential without an exit, keyed by credential', () => {
    h.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'card-7', granted: true });
    h.advance(60_000);
    h.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'card-7', granted: true });
    const a = h.only('turnstile.antipassback');
    expect(a).toMatchObject({ credential: 'card-7', priority: 'low', device: 'ts-1' });
    expect(a.title).toContain('card-7');
  });

  it('counts access.granted with a direction too', () => {
    h.event('door-1', 'access.granted', { method: 'card', credential: 'card-8', direction: 'in' });
    h.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'card-8', granted: true });
    expect(h.only('turnstile.antipassback').credential).toBe('card-8');
  });

  it('stays quiet on in/out pairs, refused passes and entries past the window', () => {
    for (let i = 0; i < 10; i++) {
      h.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'card-1', granted: true });
      h.event('ts-1', 'turnstile.pass', { direction: 'out', credential: 'card-1', granted: true });
    }
    h.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'card-2', granted: true });
    h.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'card-2', granted: true }, h.now + 13 * 3_600_000);
    expect(h.all().filter((a) => a.type === 'turnstile.antipassback')).toEqual([]);
  });

  it('acknowledge, resolve and escalation (configured role and time)', () => {
    h.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'card-7', granted: true });
    h.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'card-7', granted: true });
    const a = h.only('turnstile.antipassback');
    h.advance(599_000);
    expect(h.repo.get(a.id)!.escalatedAt).toBeNull();
    h.advance(1_000);
    expect(h.repo.get(a.id)!.escalatedTo).toBe('security');
    expect(h.engine.acknowledge(a.id, 'desk', null).state).toBe('acknowledged');
    expect(h.engine.resolve(a.id, 'desk', 'card returned').state).toBe('resolved');
  });

  it('lifecycle with the default escalation (low priority is not escalated)', async () => {
    const g = await alarmHarness();
    try {
      g.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'x', granted: true });
      g.event('ts-1', 'turnstile.pass', { direction: 'in', credential: 'x', granted: true });
      g.advance(24 * 3_600_000);
      expect(g.only('turnstile.antipassback').escalatedAt).toBeNull();
      expectLifecycle(g, g.only('turnstile.antipassback'));
    } finally {
      await g.close();
    }
  });
});
