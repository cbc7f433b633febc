import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHubConfig } from '../../src/config.ts';
import { alarmSettings } from '../../src/alarms/settings.ts';
import { durationMs } from '../../src/config.ts';
import { AlarmRepo } from '../../src/alarms/store.ts';
import { openStateDb } from '../../src/store/state-db.ts';

describe('alarms config', () => {
  it('fills defaults: Asia/Shanghai, fire linkage to evacuation doors and turnstiles, escalation per priority', () => {
    const c = parseHubConfig({});
    expect(c.alarms).toMatchObject({ enabled: true, timezone: 'Asia/Shanghai', heldOpenSeconds: 60, deniedThreshold: 5, autoResolve: [] });
    const s = alarmSettings(c.alarms, durationMs);
    expect(s.linkageFor('fire.alarm', 'lib', null)).toEqual([expect.objectContaining({ holdOpen: 'evacuation', turnstiles: 'free' })]);
    expect(s.escalateAfterMs('critical')).toBe(120_000);
    expect(s.escalateAfterMs('low')).toBeNull();
    expect(s.priority('door.forced')).toBe('high');
  });

  it('takes per-type priorities and scoped linkage', () => {
    const c = parseHubConfig({ alarms: { priorities: { 'door.forced': 'critical' }, linkage: [{ type: 'intrusion.*', building: 'lab', cameras: true }] } });
    const s = alarmSettings(c.alarms, durationMs);
    expect(s.priority('door.forced')).toBe('critical');
    expect(s.linkageFor('intrusion.tamper', 'lab', 'z')).toHaveLength(1);
    expect(s.linkageFor('intrusion.tamper', 'lib', 'z')).toHaveLength(0);
  });

  it('refuses mistakes with the path of each', () => {
    const bad = () =>
      parseHubConfig({
        alarms: {
          priorities: { 'door.smashed': 'high' },
          autoResolve: ['fire.alarm'],
          linkage: [{ type: 'fire.smoke', holdOpen: 'some' }],
          schedules: { night: [{ days: ['mon'], from: '22:00', to: '06:00' }] },
        },
      });
    expect(bad).toThrow(/\/alarms\/priorities/);
    expect(bad).toThrow(/\/alarms\/autoResolve\/0/);
    expect(bad).toThrow(/\/alarms\/linkage\/0\/holdOpen/);
    expect(() => parseHubConfig({ alarms: { linkage: [{ type: 'fire.smoke' }] } })).toThrow(/\/alarms\/linkage\/0\/type: no alarm type "fire.smoke"/);
    expect(() => parseHubConfig({ alarms: { schedules: { night: [{ days: ['mon'], from: '22:00', to: '06:00' }] } } })).toThrow(
      /\/alarms\/schedules\/night\/0: from 22:00 must be before to 06:00/,
    );
  });

  it('open alarms survive a restart of the store (one open alarm per condition)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-alarm-store-'));
    try {
      let db = openStateDb(join(dir, 'state.db'));
      const repo = new AlarmRepo(db);
      const base = { rule: 'fire', type: 'fire.alarm' as const, priority: 'critical' as const, latching: true, device: 's', gateway: 'g', building: null, zone: null, credential: null, title: 'Fire' };
      const a = repo.create({ ...base, ts: 1 });
      expect(() => repo.create({ ...base, ts: 2 })).toThrow(/UNIQUE/);
      db.close();
      db = openStateDb(join(dir, 'state.db'));
      const again = new AlarmRepo(db);
      expect(again.findOpen('fire.alarm', 's', null)?.id).toBe(a.id);
      again.resolve(a.id, 'desk', 'done', 3);
      expect(again.findOpen('fire.alarm', 's', null)).toBeNull();
      expect(again.create({ ...base, ts: 4 }).id).not.toBe(a.id);
      db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
