import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule login-lockout', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  it('raises auth.account_locked (high) for the locked account, one alarm per account', () => {
    h.event('hub', 'auth.lockout', { username: 'guard1', ip: '10.0.0.9', failures: 5, until: h.now + 900_000 });
    h.event('hub', 'auth.lockout', { username: 'guard1', ip: '10.0.0.9', failures: 5, until: h.now + 1_800_000 });
    h.event('hub', 'auth.lockout', { username: 'dorm1', ip: '10.0.0.9', failures: 5, until: h.now + 900_000 });
    const a = h.all();
    expect(a).toHaveLength(2);
    expect(a.find((x) => x.credential === 'guard1')).toMatchObject({ type: 'auth.account_locked', priority: 'high', device: 'hub', gateway: 'hub' });
  });

  it('ignores an event without a username', () => {
    h.event('hub', 'auth.lockout', {});
    expect(h.all()).toEqual([]);
  });

  it('acknowledge, resolve and escalation', () => {
    h.event('hub', 'auth.lockout', { username: 'x', failures: 5 });
    expectLifecycle(h, h.only('auth.account_locked'));
  });
});
