import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { newId, type DeviceInfo } from '@warden/contract';
import { AlarmEngine } from '../src/alarms/engine.ts';
import { alarmSettings } from '../src/alarms/settings.ts';
import { AlarmRepo } from '../src/alarms/store.ts';
import { AuditLog } from '../src/audit.ts';
import { durationMs, parseHubConfig } from '../src/config.ts';
import { HubBus } from '../src/live/bus.ts';
import { createMetrics } from '../src/metrics.ts';
import { DeviceRepo } from '../src/store/devices.ts';
import { GatewayRepo } from '../src/store/gateways.ts';
import { openStateDb, type StateDb } from '../src/store/state-db.ts';

const T0 = Date.UTC(2026, 10, 30, 2, 0, 0);
const CAMPUS: DeviceInfo[] = [
  { id: 'door-1', kind: 'door', driver: 'd', building: 'lib' },
  { id: 'door-2', kind: 'door', driver: 'd', building: 'lib' },
  { id: 'smoke-1', kind: 'fire_sensor', driver: 'd', building: 'lib' },
];

/**
 * A hub's alarm engine that can be "restarted": stopped, its SQLite file closed, then a new engine opened on the same
 * file, as the hub process does at start. The clock is the test's; nothing waits for wall time.
 */
describe('durable alarm-rule state across a hub restart', () => {
  let dir: string;
  let db: StateDb;
  let engine: AlarmEngine;
  let now = T0;
  const open = () => {
    db = openStateDb(join(dir, 'state.db'));
    const config = parseHubConfig({ dataDir: dir, alarms: { linkage: [], heldOpenSeconds: 60, offlineDebounceSeconds: 120 } });
    const devices = new DeviceRepo(db);
    engine = new AlarmEngine({
      repo: new AlarmRepo(db),
      devices,
      audit: new AuditLog(db),
      bus: new HubBus(),
      settings: alarmSettings(config.alarms, durationMs),
      commands: { devices, ttlMs: 30_000, isConnected: () => true, publish: async () => {} },
      metrics: createMetrics(),
      log: pino({ enabled: false }),
      clock: () => now,
    });
  };
  const restart = async () => {
    await engine.stop();
    db.close();
    open();
  };
  const event = (device: string, type: string, data: Record<string, unknown> = {}) =>
    engine.handle({ id: newId(), seq: 0, gateway: 'gw-1', device, type, ts: now, receivedAt: now, data });
  const advance = (ms: number) => {
    now += ms;
    engine.tick(now);
  };
  const alarms = () => new AlarmRepo(db).query({ limit: 100 }).alarms;

  afterEach(async () => {
    await engine.stop();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a door opened before a restart raises door.held_open at the right time after it; a door closed meanwhile does not', async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-durable-'));
    now = T0;
    db = openStateDb(join(dir, 'state.db'));
    new GatewayRepo(db).create('gw-1', null, 'unused-hash');
    new DeviceRepo(db).applyInventory('gw-1', CAMPUS, true, T0);
    db.close();
    open();
    const openedAt = now;
    event('door-1', 'door.opened');
    event('door-2', 'door.opened');
    advance(20_000);
    await restart();
    // After the restart: door-2 closes in time, door-1 stays open.
    advance(10_000);
    event('door-2', 'door.closed');
    advance(29_000);
    expect(alarms()).toEqual([]);
    advance(1_000);
    const list = alarms();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ type: 'door.held_open', device: 'door-1', firstAt: openedAt + 60_000, state: 'raised' });
    // Raised once: another restart does not raise it again.
    await restart();
    advance(60_000);
    expect(alarms()).toHaveLength(1);
  });

  it('a device offline in its debounce at the restart is alarmed when the debounce ends; a released door stays released', async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-durable-'));
    now = T0;
    db = openStateDb(join(dir, 'state.db'));
    new GatewayRepo(db).create('gw-1', null, 'unused-hash');
    new DeviceRepo(db).applyInventory('gw-1', CAMPUS, true, T0);
    db.close();
    open();
    const offAt = now;
    event('smoke-1', 'device.offline', { reason: 'no heartbeat' });
    event('door-2', 'command.result', { command: 'c1', action: 'door.hold_open', ok: true });
    event('door-2', 'door.opened');
    advance(60_000);
    await restart();
    advance(59_000);
    expect(alarms()).toEqual([]);
    advance(1_000);
    expect(alarms()).toHaveLength(1);
    expect(alarms()[0]).toMatchObject({ type: 'device.trouble', device: 'smoke-1', firstAt: offAt });
    // door-2 was released on purpose (fire evacuation) before the restart: still not "held open" long after.
    advance(600_000);
    expect(alarms().filter((a) => a.type === 'door.held_open')).toEqual([]);
  });
});
