import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule turnstile-tailgating', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  it('raises on a pass without a grant; a burst is one alarm', () => {
    for (let i = 0; i < 5; i++) h.event('ts-1', 'turnstile.pass', { direction: 'in', granted: false });
    expect(h.only('turnstile.tailgating')).toMatchObject({ priority: 'medium', count: 5 });
  });

  it('stays quiet on granted passes', () => {
    for (let i = 0; i < 30; i++) h.event('ts-1', 'turnstile.pass', { direction: i % 2 ? 'out' : 'in', credential: `c${i % 3}`, granted: true });
    expect(h.all().filter((a) => a.type === 'turnstile.tailgating')).toEqual([]);
  });

  it('acknowledge, resolve and escalation', () => {
    h.event('ts-1', 'turnstile.pass', { direction: 'in', granted: false });
    expectLifecycle(h, h.only('turnstile.tailgating'));
  });
});
