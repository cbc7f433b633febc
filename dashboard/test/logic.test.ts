import { describe, expect, it } from 'vitest';
import type { Device, HubEvent } from '@warden/contract';
import { applyDeviceUpdates, countOnline, filterDevices, sortDevices, withGatewayState } from '../src/lib/devices.ts';
import { mergeEvents, severityOf, summarizeData } from '../src/lib/events.ts';
import { formatTime } from '../src/lib/format.ts';
import { applyGatewayUpdates } from '../src/lib/gateways.ts';
import { PAGES, visiblePages } from '../src/lib/nav.ts';
import { pageFromHash } from '../src/lib/route.ts';
import { en } from '../src/i18n/en.ts';
import { zh } from '../src/i18n/zh.ts';

const T0 = Date.UTC(2025, 8, 1, 8, 0, 0);

function ev(n: number, over: Partial<HubEvent> = {}): HubEvent {
  return { id: `ev${n}`, seq: n, gateway: 'gw-a', device: 'door-1', type: 'door.opened', ts: T0 + n, receivedAt: T0 + n, data: {}, ...over };
}

function dev(id: string, over: Partial<Device> = {}): Device {
  return { id, gateway: 'gw-a', kind: 'door', driver: 'door-controller', name: null, building: null, zone: null, location: null, medium: null, online: true, lastSeen: T0, ...over };
}

describe('live event list', () => {
  it('puts the newest first and drops duplicates from the live feed and a fetched page', () => {
    const fetched = [ev(3), ev(2), ev(1)];
    let list = mergeEvents([], [ev(4)]);
    list = mergeEvents(list, fetched);
    list = mergeEvents(list, [ev(4), ev(5)]);
    expect(list.map((e) => e.id)).toEqual(['ev5', 'ev4', 'ev3', 'ev2', 'ev1']);
  });

  it('keeps at most the cap, dropping the oldest', () => {
    let list: HubEvent[] = [];
    for (let i = 1; i <= 30; i++) list = mergeEvents(list, [ev(i)], 10);
    expect(list).toHaveLength(10);
    expect(list[0]!.id).toBe('ev30');
    expect(list.at(-1)!.id).toBe('ev21');
  });

  it('orders by arrival at the hub, so a late backlog appears on top', () => {
    const late = ev(9, { ts: T0 - 3_600_000, receivedAt: T0 + 100 });
    expect(mergeEvents([ev(1), ev(2)], [late]).map((e) => e.id)).toEqual(['ev9', 'ev2', 'ev1']);
  });

  it('returns the same array when nothing is new (no needless re-render)', () => {
    const list = [ev(1)];
    expect(mergeEvents(list, [ev(1)])).toBe(list);
  });

  it('highlights alarm-like types and nothing else', () => {
    for (const t of ['door.forced', 'fire.alarm', 'emergency.call', 'intrusion.alarm', 'intrusion.tamper']) expect(severityOf(t)).toBe('alarm');
    expect(severityOf('door.held_open')).toBe('warning');
    expect(severityOf('door.opened')).toBe('info');
    expect(severityOf('something.new')).toBe('info');
  });
});

describe('event data summary', () => {
  const labels = (cat: typeof zh) => ({ dataKeys: cat.dataKeys, dataValues: cat.dataValues, yes: cat.common.yes, no: cat.common.no });

  it('labels keys and enumerated values in the chosen language', () => {
    const data = { method: 'card', person: 'Zhang San', direction: 'in', granted: true };
    expect(summarizeData(data, labels(zh))).toBe('方式: 刷卡, 人员: Zhang San, 方向: 进, 放行: 是');
    expect(summarizeData(data, labels(en))).toBe('method: card, person: Zhang San, direction: in, granted: yes');
  });

  it('shows unknown keys as they are and keeps the line short', () => {
    expect(summarizeData({ weird: { a: 1 } }, labels(en))).toBe('weird: {"a":1}');
    const long = summarizeData({ reason: 'x'.repeat(500) }, labels(en));
    expect(long.length).toBe(120);
    expect(long.endsWith('…')).toBe(true);
    expect(summarizeData({}, labels(en))).toBe('');
  });
});

describe('devices and gateways', () => {
  it('applies availability updates and reports ids it does not know', () => {
    const r = applyDeviceUpdates([dev('a'), dev('b')], [{ id: 'b', gateway: 'gw-a', online: false, lastSeen: T0 + 5 }, { id: 'zz', gateway: 'gw-a', online: true, lastSeen: null }]);
    expect(r.devices.map((d) => [d.id, d.online, d.lastSeen])).toEqual([['a', true, T0], ['b', false, T0 + 5]]);
    expect(r.unknown).toEqual(['zz']);
  });

  it('filters by kind and gateway, counts online, lists offline first', () => {
    const all = [dev('d1'), dev('m1', { kind: 'meter', online: false }), dev('d2', { gateway: 'gw-b', online: false })];
    expect(filterDevices(all, { kind: 'door', gateway: '' }).map((d) => d.id)).toEqual(['d1', 'd2']);
    expect(filterDevices(all, { kind: '', gateway: 'gw-b' }).map((d) => d.id)).toEqual(['d2']);
    expect(countOnline(all)).toEqual({ online: 1, total: 3 });
    expect(sortDevices(all).map((d) => d.id)).toEqual(['m1', 'd2', 'd1']);
  });

  it('keeps the last known backlog when a gateway update leaves it out', () => {
    const gw = { id: 'gw-a', name: 'A', online: true, lastSeen: T0, backlog: 7, agentVersion: null };
    const r = applyGatewayUpdates([gw], [{ id: 'gw-a', online: false, lastSeen: T0 + 1, backlog: null }]);
    expect(r.gateways[0]).toMatchObject({ online: false, lastSeen: T0 + 1, backlog: 7 });
    expect(applyGatewayUpdates([gw], [{ id: 'gw-b', online: true, lastSeen: T0, backlog: 0 }]).unknown).toEqual(['gw-b']);
  });
});

describe('navigation by role', () => {
  const ids = (roles: Parameters<typeof visiblePages>[0]) => visiblePages(roles).map((p) => p.id);

  it('shows each role only its pages, and admin everything', () => {
    expect(ids(['security'])).toEqual(['events', 'alarms', 'site', 'cameras', 'cameraStatus', 'devices', 'faces']);
    expect(ids(['supervisor'])).toEqual(ids(['security']));
    expect(ids(['dorm'])).toEqual(['events', 'devices', 'faces', 'attendance']);
    expect(ids(['facilities'])).toEqual(['devices', 'energy', 'energyCost', 'energyAnomalies', 'energyImport', 'energySchedules', 'audit']);
    expect(ids(['admin'])).toEqual(PAGES.map((p) => p.id));
    expect(ids(['admin'])).toContain('gateways');
    expect(ids([])).toEqual([]);
  });

  it('unions the pages of several roles', () => {
    expect(ids(['facilities', 'dorm'])).toEqual(['events', 'devices', 'energy', 'energyCost', 'energyAnomalies', 'energyImport', 'energySchedules', 'faces', 'attendance', 'audit']);
  });

  it('reads the page from the address hash', () => {
    expect(pageFromHash('#/devices')).toBe('devices');
    expect(pageFromHash('#devices?kind=door')).toBe('devices');
    expect(pageFromHash('')).toBe('');
  });
});

describe('time format', () => {
  it('shows only the time for today and the date otherwise', () => {
    const now = new Date(2025, 8, 1, 12, 0, 0).getTime();
    expect(formatTime(new Date(2025, 8, 1, 8, 5, 9).getTime(), now)).toBe('08:05:09');
    expect(formatTime(new Date(2025, 7, 31, 23, 0, 0).getTime(), now)).toBe('08-31 23:00:00');
    expect(formatTime(new Date(2024, 0, 2, 3, 4, 5).getTime(), now)).toBe('2024-01-02 03:04:05');
  });
});

describe('devices behind an offline gateway', () => {
  it('are shown as not reachable, whatever the hub last heard', () => {
    const all = [dev('a1', { gateway: 'gw-a' }), dev('b1', { gateway: 'gw-b' }), dev('c1', { gateway: 'gw-c' })];
    const shown = withGatewayState(all, new Map([['gw-a', true], ['gw-b', false]]));
    expect(shown.map((d) => [d.id, d.online, d.gatewayOffline ?? false])).toEqual([
      ['a1', true, false],
      ['b1', false, true],
      ['c1', true, false],
    ]);
  });
});
