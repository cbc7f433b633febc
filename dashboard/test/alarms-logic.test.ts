import { describe, expect, it } from 'vitest';
import type { Alarm } from '@warden/contract';
import { severityOf } from '../src/lib/events.ts';
import { alarmIdFromHash, alarmedDevices, filterAlarms, loudest, mergeAlarms, needsAttention, sortAlarms } from '../src/lib/alarms.ts';

const base: Alarm = {
  id: 'a1',
  rule: 'door-forced',
  type: 'door.forced',
  priority: 'high',
  state: 'raised',
  latching: false,
  conditionCleared: false,
  device: 'door-1',
  gateway: 'gw-1',
  building: 'library',
  zone: '1F',
  credential: null,
  title: 'Door forced open',
  count: 1,
  firstAt: 1000,
  lastAt: 1000,
  acknowledgedAt: null,
  acknowledgedBy: null,
  ackNote: null,
  resolvedAt: null,
  resolvedBy: null,
  resolveNote: null,
  escalatedAt: null,
  escalatedTo: null,
};
const alarm = (o: Partial<Alarm>): Alarm => ({ ...base, ...o });

describe('alarm list logic', () => {
  it('keeps the newer version of an alarm whatever order REST and the feed deliver them in', () => {
    const raised = alarm({});
    const repeated = alarm({ count: 3, lastAt: 3000 });
    const acked = alarm({ state: 'acknowledged', acknowledgedBy: 'guard.li', count: 2 });
    expect(mergeAlarms([repeated], [raised])[0]).toBe(repeated);
    expect(mergeAlarms([acked], [repeated])[0]).toBe(acked); // state only moves forward
    expect(mergeAlarms([raised], [alarm({ id: 'a2' })]).map((a) => a.id)).toEqual(['a1', 'a2']);
  });

  it('sorts by priority, unacknowledged first, newest first', () => {
    const rows = sortAlarms([
      alarm({ id: 'low', priority: 'low', lastAt: 9 }),
      alarm({ id: 'crit-acked', priority: 'critical', state: 'acknowledged' }),
      alarm({ id: 'crit-old', priority: 'critical', lastAt: 1 }),
      alarm({ id: 'crit-new', priority: 'critical', lastAt: 5 }),
    ]);
    expect(rows.map((a) => a.id)).toEqual(['crit-new', 'crit-old', 'crit-acked', 'low']);
  });

  it('filters by priority, type family, state and text', () => {
    const all = [alarm({ id: 'f', type: 'fire.alarm', priority: 'critical' }), alarm({ id: 'd' }), alarm({ id: 't', type: 'turnstile.tailgating', credential: 'C123' })];
    expect(filterAlarms(all, { priority: 'critical' }).map((a) => a.id)).toEqual(['f']);
    expect(filterAlarms(all, { type: 'fire.*' }).map((a) => a.id)).toEqual(['f']);
    expect(filterAlarms(all, { q: 'c123' }).map((a) => a.id)).toEqual(['t']);
    expect(filterAlarms(all, { state: 'acknowledged' })).toEqual([]);
  });

  it('sounds while something is raised, at the pitch of the most urgent; blinks devices with open alarms', () => {
    const all = [alarm({ id: 'x', priority: 'medium' }), alarm({ id: 'y', priority: 'critical', state: 'acknowledged', device: 'smoke-1' })];
    expect(needsAttention(all)).toBe(true);
    expect(loudest(all)).toBe('medium');
    expect(loudest([all[1]!])).toBeNull();
    expect([...alarmedDevices([...all, alarm({ id: 'z', state: 'resolved', device: 'gate-9' })])].sort()).toEqual(['door-1', 'smoke-1']);
  });

  it('shows a gateway fail-safe release as a warning in the event list', () => {
    expect(severityOf('linkage.failsafe')).toBe('warning');
  });

  it('reads the alarm id of a detail address', () => {
    expect(alarmIdFromHash('#/alarms/AbC_12')).toBe('AbC_12');
    expect(alarmIdFromHash('#/alarms')).toBeNull();
    expect(alarmIdFromHash('#/alarms/history')).toBeNull();
    expect(alarmIdFromHash('#/events/x')).toBeNull();
  });
});
