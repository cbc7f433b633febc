import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { newId, type DeviceInfo } from '@warden/contract';
import { AlarmEngine, STORM_DEVICE_PREFIX } from '../src/alarms/engine.ts';
import { alarmSettings } from '../src/alarms/settings.ts';
import { AlarmRepo } from '../src/alarms/store.ts';
import { AuditLog } from '../src/audit.ts';
import { durationMs, parseHubConfig } from '../src/config.ts';
import { HubBus, type LiveMessages } from '../src/live/bus.ts';
import { createMetrics } from '../src/metrics.ts';
import { DeviceRepo } from '../src/store/devices.ts';
import type { StoredEvent } from '../src/store/events.ts';
import { GatewayRepo } from '../src/store/gateways.ts';
import { openStateDb } from '../src/store/state-db.ts';

const T0 = Date.UTC(2026, 10, 30, 2, 0, 0);
const TURNSTILES: DeviceInfo[] = [
  ...Array.from({ length: 10 }, (_, i): DeviceInfo => ({ id: `ts-${i}`, kind: 'turnstile', driver: 'd', building: 'lib' })),
  { id: 'ts-dorm', kind: 'turnstile', driver: 'd', building: 'dorm' },
];

/** The alarm engine over a real SQLite file, listening to a real hub bus as in the hub, with a clock the test moves. */
async function storm(flood: { threshold: number; windowSeconds: number }) {
  const dir = await mkdtemp(join(tmpdir(), 'warden-storm-test-'));
  const db = openStateDb(join(dir, 'state.db'));
  new GatewayRepo(db).create('gw-1', null, 'unused-hash');
  const devices = new DeviceRepo(db);
  devices.applyInventory('gw-1', TURNSTILES, true, T0);
  const config = parseHubConfig({ dataDir: dir, alarms: { linkage: [], flood } });
  const bus = new HubBus();
  const repo = new AlarmRepo(db);
  const metrics = createMetrics();
  let now = T0;
  const engine = new AlarmEngine({
    repo,
    devices,
    audit: new AuditLog(db),
    bus,
    settings: alarmSettings(config.alarms, durationMs),
    commands: { devices, ttlMs: 30_000, isConnected: () => true, publish: async () => {} },
    metrics,
    log: pino({ enabled: false }),
    clock: () => now,
  });
  engine.start();
  const announced: Array<LiveMessages['alarm']> = [];
  bus.on('alarm', (a) => announced.push(a));
  let seq = 0;
  return {
    repo,
    bus,
    announced,
    metric: async (name: string) => {
      const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
      return (m?.values ?? []).reduce((s, v) => s + v.value, 0);
    },
    /** One stored batch as ingest hands it over: every event emitted in one synchronous loop. */
    async batch(events: Array<{ device: string; credential: string }>) {
      for (const e of events) {
        const ev: StoredEvent = { id: newId(), seq: ++seq, gateway: 'gw-1', device: e.device, type: 'turnstile.pass', ts: now, receivedAt: now, data: { credential: e.credential, direction: 'in', granted: true } };
        bus.emit('event', ev);
      }
      await Promise.resolve();
      now += 10;
    },
    all: () => repo.query({ limit: 100_000 }).alarms,
    async close() {
      await engine.stop();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('alarm storms (flood control and group commit)', () => {
  let h: Awaited<ReturnType<typeof storm>>;
  afterEach(() => h.close());

  it('folds a storm into a counted building alarm, keeps each device its first alarm, loses no trigger', async () => {
    h = await storm({ threshold: 5, windowSeconds: 60 });
    // 300 cards each entering twice at the library's turnstiles (3 alarms for every 4 events, as in the storm),
    // plus a dorm turnstile: every second entry is an anti-passback finding.
    const first = Array.from({ length: 300 }, (_, i) => ({ device: `ts-${i % 10}`, credential: `card-${i}` }));
    await h.batch(first);
    await h.batch([...first.map((e) => ({ ...e, device: `ts-${(Number(e.credential.slice(5)) + 3) % 10}` })), { device: 'ts-dorm', credential: 'card-0' }]);
    const alarms = h.all();
    const stormAlarms = alarms.filter((a) => a.device.startsWith(STORM_DEVICE_PREFIX));
    const own = alarms.filter((a) => !a.device.startsWith(STORM_DEVICE_PREFIX));
    expect(stormAlarms).toHaveLength(1);
    const s = stormAlarms[0]!;
    expect(s).toMatchObject({ type: 'turnstile.antipassback', building: 'lib', device: `${STORM_DEVICE_PREFIX}lib`, state: 'raised' });
    // Every library turnstile has its own first alarm; the dorm's turnstile is another building, not in the storm.
    const ownDevices = new Set(own.map((a) => a.device));
    for (let i = 0; i < 10; i++) expect(ownDevices.has(`ts-${i}`)).toBe(true);
    expect(own.find((a) => a.device === 'ts-dorm')).toMatchObject({ building: 'dorm', credential: 'card-0' });
    // Nothing lost: 301 findings = the alarms of their own + what the storm alarm counts.
    expect(own.length + s.count).toBe(301);
    expect(await h.metric('warden_hub_alarms_storm_folded_total')).toBe(s.count);
    // Each folded trigger is on the storm alarm's timeline with its device, credential and event.
    const tl = h.repo.timeline(s.id);
    expect(tl).toHaveLength(s.count);
    const folded = new Set(tl.map((t) => `${String(t.detail?.device)}|${String(t.detail?.credential)}`));
    for (const a of own) expect(folded.has(`${a.device}|${a.credential}`)).toBe(false);
    expect(folded.size + own.length).toBe(301);
    expect(tl.every((t) => typeof t.eventId === 'string')).toBe(true);
  });

  it('writes a stored batch in one transaction and announces each alarm once per batch', async () => {
    h = await storm({ threshold: 1_000_000, windowSeconds: 60 });
    const cards = Array.from({ length: 2000 }, (_, i) => ({ device: `ts-${i % 10}`, credential: `card-${i}` }));
    await h.batch(cards);
    const commits0 = await h.metric('warden_hub_alarm_commits_total');
    await h.batch(cards);
    expect(h.all()).toHaveLength(2000);
    expect((await h.metric('warden_hub_alarm_commits_total')) - commits0).toBe(1);
    expect(h.announced).toHaveLength(2000);
    expect(new Set(h.announced.map((a) => a.id)).size).toBe(2000);
  });

  it('a storm ends after a quiet window: a device then gets a new alarm of its own again', async () => {
    h = await storm({ threshold: 2, windowSeconds: 1 });
    const entries = Array.from({ length: 6 }, (_, i) => ({ device: 'ts-0', credential: `card-${i}` }));
    await h.batch(entries);
    await h.batch(entries);
    expect(h.all().filter((a) => !a.device.startsWith(STORM_DEVICE_PREFIX))).toHaveLength(2);
    // Quiet for longer than the window (the harness clock moves 10 ms per batch).
    for (let i = 0; i < 150; i++) await h.batch([]);
    await h.batch([{ device: 'ts-0', credential: 'card-new' }]);
    await h.batch([{ device: 'ts-0', credential: 'card-new' }]);
    expect(h.all().find((a) => a.credential === 'card-new')).toMatchObject({ device: 'ts-0', state: 'raised' });
  });
});
