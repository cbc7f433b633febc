import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { pino } from 'pino';
import { newId, type DeviceInfo } from '@warden/contract';
import { AlarmEngine } from '../../src/alarms/engine.ts';
import { alarmSettings } from '../../src/alarms/settings.ts';
import { AlarmRepo } from '../../src/alarms/store.ts';
import type { Alarm, AlarmType } from '../../src/alarms/types.ts';
import { AuditLog } from '../../src/audit.ts';
import { durationMs, parseHubConfig } from '../../src/config.ts';
import { HubBus, type LiveMessages } from '../../src/live/bus.ts';
import { createMetrics } from '../../src/metrics.ts';
import { DeviceRepo } from '../../src/store/devices.ts';
import type { StoredEvent } from '../../src/store/events.ts';
import { GatewayRepo } from '../../src/store/gateways.ts';
import { openStateDb } from '../../src/store/state-db.ts';

/** Monday 2026-11-30 10:00 in Asia/Shanghai (02:00 UTC): inside office hours. */
export const MONDAY_10AM = Date.UTC(2026, 10, 30, 2, 0, 0);

export const CAMPUS: DeviceInfo[] = [
  { id: 'door-1', kind: 'door', driver: 'd', name: 'Library east door', building: 'lib', zone: 'lib-1f' },
  { id: 'door-2', kind: 'door', driver: 'd', building: 'lib', zone: 'lib-2f' },
  { id: 'door-9', kind: 'door', driver: 'd', building: 'dorm' },
  { id: 'ts-1', kind: 'turnstile', driver: 'd', building: 'lib' },
  { id: 'smoke-1', kind: 'fire_sensor', driver: 'd', building: 'lib', zone: 'lib-1f' },
  { id: 'sos-1', kind: 'emergency_post', driver: 'd', building: 'lib' },
  { id: 'zone-1', kind: 'intrusion_zone', driver: 'd', building: 'lib', zone: 'lib-1f' },
  { id: 'cam-1', kind: 'camera', driver: 'd', building: 'lib', zone: 'lib-1f' },
  { id: 'cam-2', kind: 'camera', driver: 'd', building: 'lib', zone: 'lib-2f' },
  { id: 'meter-1', kind: 'meter', driver: 'd', building: 'lib', medium: 'power' },
];

/**
 * The alarm engine over a real SQLite file, fed events directly (as the hub bus would) with a clock the test
 * moves; no timers, no sleeps. Linkage is off unless the test configures it. `restart()` does what a hub restart
 * does to the engine: stops it, closes the SQLite file, opens it again and starts a new engine on it (same clock).
 * `connected` says whether gw-1 is connected to the hub (commands to it cannot be handed over while false).
 */
export async function alarmHarness(alarms: Record<string, unknown> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'warden-alarms-test-'));
  let db = openStateDb(join(dir, 'state.db'));
  const gateways = new GatewayRepo(db);
  gateways.create('gw-1', null, 'unused-hash');
  // Registered by the hub (its devices.registry), then the gateway's inventory adds drivers and media, as on a real hub.
  const registry = new DeviceRepo(db);
  for (const d of CAMPUS) registry.register({ id: d.id, gateway: 'gw-1', kind: d.kind, building: d.building, zone: d.zone, name: d.name }, MONDAY_10AM);
  registry.applyInventory('gw-1', CAMPUS, true, MONDAY_10AM);
  const config = parseHubConfig({ dataDir: dir, alarms: { linkage: [], ...alarms } });
  let now = MONDAY_10AM;
  const published: Array<{ topic: string; payload: string }> = [];
  const emitted: Array<LiveMessages['alarm']> = [];
  const linkage: Array<LiveMessages['linkage']> = [];
  const link = { connected: true };
  const build = (): { engine: AlarmEngine; repo: AlarmRepo; audit: AuditLog } => {
    const devices = new DeviceRepo(db);
    const bus = new HubBus();
    const audit = new AuditLog(db);
    const repo = new AlarmRepo(db);
    const engine = new AlarmEngine({
      repo,
      devices,
      audit,
      bus,
      settings: alarmSettings(config.alarms, durationMs),
      commands: { devices, ttlMs: 30_000, isConnected: () => link.connected, publish: async (topic, payload) => void published.push({ topic, payload }) },
      metrics: createMetrics(),
      log: pino({ enabled: false }),
      clock: () => now,
    });
    bus.on('alarm', (a) => emitted.push(a));
    bus.on('linkage', (m) => linkage.push(m));
    return { engine, repo, audit };
  };
  let seq = 0;
  const h = {
    ...build(),
    get connected() {
      return link.connected;
    },
    set connected(v: boolean) {
      link.connected = v;
    },
    emitted,
    linkage,
    published,
    get now() {
      return now;
    },
    /** A hub restart, as far as the alarm engine goes (its in-memory state gone, the SQLite file kept). */
    async restart() {
      await h.engine.stop();
      db.close();
      db = openStateDb(join(dir, 'state.db'));
      Object.assign(h, build());
      await h.engine.resume();
    },
    /** An event stored now (or at `ts`) from gw-1. */
    event(device: string, type: string, data: Record<string, unknown> = {}, ts = now): StoredEvent {
      const e: StoredEvent = { id: newId(), seq: ++seq, gateway: 'gw-1', device, type, ts, receivedAt: now, data };
      h.engine.handle(e);
      return e;
    },
    advance(ms: number) {
      now += ms;
      h.engine.tick(now);
    },
    open(): Alarm[] {
      return h.repo.query({ state: 'open', limit: 1000 }).alarms;
    },
    all(): Alarm[] {
      return h.repo.query({ limit: 1000 }).alarms;
    },
    only(type: AlarmType): Alarm {
      const list = h.all().filter((a) => a.type === type);
      expect(list).toHaveLength(1);
      return list[0]!;
    },
    async close() {
      await h.engine.stop();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export type Harness = Awaited<ReturnType<typeof alarmHarness>>;

/**
 * The lifecycle every alarm type shares: not escalated before its time, escalated after it (default escalation
 * per priority), acknowledged with a note by an operator, resolved with a note, each step audited and announced.
 */
export function expectLifecycle(h: Harness, alarm: Alarm): void {
  const after = { critical: 120_000, high: 300_000, medium: 900_000, low: null }[alarm.priority];
  if (after !== null) {
    h.advance(after - (h.now - alarm.firstAt) - 1000);
    expect(h.repo.get(alarm.id)!.escalatedAt).toBeNull();
    h.advance(1000);
    const esc = h.repo.get(alarm.id)!;
    expect(esc.escalatedTo).toBe('admin');
    expect(h.emitted.at(-1)).toMatchObject({ id: alarm.id, escalatedTo: 'admin' });
    expect(h.linkage.at(-1)).toEqual({ alarmId: alarm.id, action: 'notify', devices: [alarm.device], roles: ['admin'] });
  }
  const acked = h.engine.acknowledge(alarm.id, 'desk', 'on my way');
  expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'desk', ackNote: 'on my way', acknowledgedAt: h.now });
  expect(() => h.engine.acknowledge(alarm.id, 'desk', null)).toThrow(/not raised/);
  const resolved = h.engine.resolve(alarm.id, 'desk', 'checked on site');
  expect(resolved).toMatchObject({ state: 'resolved', resolvedBy: 'desk', resolveNote: 'checked on site' });
  expect(() => h.engine.resolve(alarm.id, 'desk', 'again')).toThrow(/already resolved/);
  expect(h.emitted.at(-1)).toMatchObject({ id: alarm.id, state: 'resolved' });
  const kinds = h.repo.timeline(alarm.id).map((t) => t.kind);
  expect(kinds[0]).toBe('raised');
  expect(kinds.slice(-2)).toEqual(['acknowledged', 'resolved']);
  const actions = h.audit.list(100).filter((e) => e.target === alarm.id).map((e) => `${e.actor} ${e.action}`);
  expect(actions).toContain('desk alarm.acknowledge');
  expect(actions).toContain('desk alarm.resolve');
}
