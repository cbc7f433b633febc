import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseHubConfig } from '../../src/config.ts';
import { alarmHarness, expectLifecycle, MONDAY_10AM, type Harness } from './harness.ts';

const HOURS = {
  schedules: { office: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '22:00' }], always: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }] },
  doorSchedules: [
    { building: 'lib', schedule: 'office' },
    { device: 'door-2', schedule: 'always' },
  ],
};
const H = 3_600_000;

describe('rule after-hours', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness(HOURS)));
  afterEach(() => h.close());

  it('raises on access at night by campus time (Asia/Shanghai), not by UTC', () => {
    // 23:30 Monday in Shanghai = 15:30 UTC, which would be "office hours" in UTC.
    h.event('door-1', 'access.granted', { method: 'card', credential: 'c-1' }, MONDAY_10AM + 13.5 * H);
    const a = h.only('access.after_hours');
    expect(a).toMatchObject({ device: 'door-1', priority: 'medium' });
    expect(h.repo.timeline(a.id)[0]!.detail).toMatchObject({ credential: 'c-1' });
  });

  it('raises on a weekend door opening', () => {
    h.event('door-1', 'door.opened', {}, MONDAY_10AM - 2 * 24 * H); // Saturday 10:00
    expect(h.only('access.after_hours').device).toBe('door-1');
  });

  it('stays quiet inside the schedule, for a door-level schedule, and for doors without one', () => {
    h.event('door-1', 'access.granted', { method: 'card' }, MONDAY_10AM);
    h.event('door-1', 'door.opened', {}, MONDAY_10AM + 11.9 * H); // 21:54
    h.event('door-2', 'door.opened', {}, MONDAY_10AM + 14 * H); // lib, but its own 24/7 schedule
    h.event('door-9', 'door.opened', {}, MONDAY_10AM + 14 * H); // dorm: no schedule
    expect(h.all()).toEqual([]);
  });

  it('acknowledge, resolve and escalation', () => {
    h.advance(13 * H); // 23:00 Monday, campus time
    h.event('door-1', 'door.opened');
    expectLifecycle(h, h.only('access.after_hours'));
  });

  it('refuses a schedule name that does not exist and an unknown time zone, naming the path', () => {
    expect(() => parseHubConfig({ alarms: { timezone: 'Mars/Olympus', doorSchedules: [{ building: 'lib', schedule: 'nope' }] } })).toThrow(
      /\/alarms\/timezone: unknown time zone[\s\S]*\/alarms\/doorSchedules\/0\/schedule: no schedule named "nope"/,
    );
  });
});
