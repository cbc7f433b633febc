import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

const denied = (credential?: string) => ({ method: 'card', reason: 'unknown_card', ...(credential ? { credential } : {}) });

describe('rule repeated-denied', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  it('raises on the fifth denial of one credential within 60 s, across doors', () => {
    for (let i = 0; i < 4; i++) h.event(i % 2 ? 'door-1' : 'door-2', 'access.denied', denied('card-x'), h.now + i * 10_000);
    expect(h.all()).toEqual([]);
    h.event('door-1', 'access.denied', denied('card-x'), h.now + 40_000);
    const a = h.all().filter((x) => x.credential === 'card-x');
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ type: 'access.repeated_denied', priority: 'high', device: 'door-1' });
  });

  it('raises on five denials at one door with different credentials', () => {
    for (let i = 0; i < 5; i++) h.event('door-1', 'access.denied', denied(`card-${i}`), h.now + i * 1000);
    expect(h.all()).toEqual([expect.objectContaining({ type: 'access.repeated_denied', device: 'door-1', credential: null })]);
  });

  it('stays quiet on scattered denials and on grants', () => {
    for (let i = 0; i < 20; i++) h.event('door-1', 'access.denied', denied('card-y'), h.now + i * 20_000);
    for (let i = 0; i < 20; i++) h.event('door-1', 'access.granted', { method: 'card', credential: 'card-y' });
    expect(h.all()).toEqual([]);
  });

  it('acknowledge, resolve and escalation', () => {
    for (let i = 0; i < 5; i++) h.event('door-9', 'access.denied', denied(), h.now + i);
    expectLifecycle(h, h.only('access.repeated_denied'));
  });
});
