import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { gatewayTopic, type AlarmsPage, type EventsPage } from '@warden/contract';
import { runBackup, runRestore } from '../src/cli.ts';
import { HOUR, MIN15, localTime } from '../src/energy/time.ts';
import { MANIFEST, verifyBackup, type BackupManifest } from '../src/lifecycle/backup.ts';
import { controlSocketPath } from '../src/lifecycle/control.ts';
import type { Hub } from '../src/index.ts';
import { ackWatcher, api, clockAt, connectGateway, FakeGatewayBatches, inventory, login, metric, registered, testHub, type TestHub } from './helpers.ts';

/**
 * `warden backup` of a RUNNING hub while a gateway keeps sending (ingest under load), then `warden restore` into a new
 * data dir and a new hub on it answering the same queries: events, alarms, energy consumption. The hub clock reads
 * three days after the meter readings, so the test passes on any date.
 */
const day0 = localTime('2026-11-02', 0, 8);
const clock = clockAt(day0 + 3 * 24 * HOUR);
const energy = {
  nodes: [
    { id: 'campus', type: 'campus', name: 'Campus' },
    { id: 'teach-a', type: 'building', parent: 'campus', use: 'teaching', name: 'Teaching A' },
  ],
  meters: [{ id: 'pm-a', node: 'teach-a', medium: 'power', tariff: 'grid' }],
  tariffs: {
    grid: {
      kind: 'tou',
      medium: 'power',
      periods: [{ from: '2026-01-01', to: '2026-12-31', slots: [{ from: '00:00', to: '24:00', band: 'flat' }], prices: { peak: 1, flat: 1, valley: 1 } }],
    },
  },
};
const DOORS = Array.from({ length: 10 }, (_, i) => `door-${i}`);

let work: string;
let t: TestHub;
let restored: TestHub | undefined;
let gw: MqttClient;

async function allEvents(hub: Hub, token: string): Promise<number> {
  let n = 0;
  let before: string | null = null;
  for (;;) {
    const r: { status: number; body: EventsPage } = await api<EventsPage>(hub, token, `/api/events?limit=500${before ? `&before=${encodeURIComponent(before)}` : ''}`);
    expect(r.status).toBe(200);
    n += r.body.events.length;
    before = r.body.next;
    if (!before) return n;
  }
}

async function alarmsOf(hub: Hub, token: string): Promise<string[]> {
  const r = await api<AlarmsPage>(hub, token, '/api/alarms?limit=500');
  expect(r.status).toBe(200);
  return r.body.alarms.map((a) => `${a.device}:${a.type}:${a.state}`).sort();
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'warden-backup-'));
  // The hub owns the registry (issue 9): the meter and doors are registered, the inventory only reports them.
  const owned = registered({ 'gw-b': { password: 'backup-gateway-password', devices: [{ id: 'pm-a', kind: 'meter', building: 'teach-a' }, ...DOORS.map((id) => ({ id, kind: 'door', building: 'teach-a' }))] } });
  t = await testHub({ energy, retention: { minFreeBytes: 0, minFreePercent: 0 }, ...owned }, join(work, 'hub'), clock);
  await t.hub.provisionGateway('gw-b', 'Backup', 'backup-gateway-password');
  gw = await connectGateway(t.hub.mqttUrl, 'gw-b', 'backup-gateway-password');
  const devices = [{ id: 'pm-a', kind: 'meter', building: 'teach-a' }, ...DOORS.map((id) => ({ id, kind: 'door', building: 'teach-a' }))];
  await gw.publishAsync(gatewayTopic('gw-b', 'inventory'), inventory('gw-b', devices), { qos: 1, retain: true });
}, 30_000);

afterAll(async () => {
  await gw?.endAsync();
  await restored?.close();
  await t?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('backup and restore of a running hub', () => {
  let manifest: BackupManifest;
  let consumption: unknown;
  let admin: string;

  it('takes a consistent backup while ingest runs', async () => {
    const acks = await ackWatcher(gw, 'gw-b');
    const g = new FakeGatewayBatches('gw-b');
    const readings = Array.from({ length: 2 * 96 + 1 }, (_, i) => g.telemetry('pm-a', { energy_kwh: 1000 + 5 * i, power_kw: 20 }, day0 + i * MIN15));
    await gw.publishAsync(gatewayTopic('gw-b', 'up'), g.batch(readings), { qos: 1 });
    // Five forced doors raise five alarms.
    await gw.publishAsync(gatewayTopic('gw-b', 'up'), g.batch(DOORS.slice(0, 5).map((d) => g.event(d, 'door.forced', {}, clock()))), { qos: 1 });
    await acks.until(g.seq);
    admin = await login(t.hub);
    const q = `node=campus&from=${day0}&to=${day0 + 48 * HOUR}&step=1h`;
    const c = await api<{ total: number }>(t.hub, admin, `/api/energy/consumption?${q}&refresh=true`);
    expect(c.status).toBe(200);
    expect(c.body.total).toBe(960);
    consumption = (await api(t.hub, admin, `/api/energy/consumption?${q}`)).body;

    // Load: batches of 100 door events back to back, each waiting for its ack, until the backup is done.
    let stop = false;
    let ackedBeforeBackup = 0;
    const load = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 100 }, (_, i) => g.event(DOORS[i % DOORS.length]!, 'door.closed', {}, clock()));
        await gw.publishAsync(gatewayTopic('gw-b', 'up'), g.batch(batch), { qos: 1 });
        await acks.until(g.seq);
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    ackedBeforeBackup = (await allEvents(t.hub, admin));
    expect(existsSync(controlSocketPath(t.dataDir))).toBe(true);
    const out = join(work, 'backup-1');
    await runBackup(out, { data: t.dataDir });
    expect(process.exitCode ?? 0).toBe(0);
    const eventsAfterBackup = await allEvents(t.hub, admin);
    stop = true;
    await load;
    const eventsAtEnd = await allEvents(t.hub, admin);

    manifest = verifyBackup(out);
    expect(manifest.mode).toBe('live');
    expect(manifest.files.map((f) => f.name)).toEqual(expect.arrayContaining(['state.db', 'telemetry.duckdb', 'energy.duckdb', 'jwt-secret']));
    // The copy holds everything stored before it started, and nothing that was stored after it ended.
    expect(manifest.counts.events).toBeGreaterThanOrEqual(ackedBeforeBackup);
    expect(manifest.counts.events).toBeLessThanOrEqual(eventsAfterBackup);
    expect(eventsAtEnd).toBeGreaterThan(manifest.counts.events); // ingest went on during and after the backup
    // Five forced doors (and the energy watch's alarm on the meter, whose readings stop two days before the hub clock).
    expect((await alarmsOf(t.hub, admin)).filter((a) => a.endsWith(':door.forced:raised'))).toHaveLength(5);
    expect(manifest.counts.alarms).toBe((await alarmsOf(t.hub, admin)).length);
    expect(readdirSync(work).filter((n) => n.includes('partial'))).toEqual([]);
    expect(await metric(t.hub, 'warden_hub_backups_total', { result: 'ok' })).toBe(1);
    // The backup is audited.
    const audit = await api<{ entries: Array<{ action: string }> }>(t.hub, admin, '/api/audit?limit=50');
    expect(audit.body.entries.map((e) => e.action)).toContain('hub.backup');
    console.log(`backup under load: ${manifest.counts.events} events in the copy (${ackedBeforeBackup} stored before it began, ${eventsAfterBackup} when it ended, ${eventsAtEnd} at the end), ${manifest.files.length} files`);
  }, 60_000);

  it('refuses an existing non-empty target, and a restore into a non-empty data dir or of an edited backup', async () => {
    const before = process.exitCode;
    await runBackup(join(work, 'backup-1'), { data: t.dataDir });
    expect(process.exitCode).toBe(1);
    await runRestore(join(work, 'backup-1'), { data: t.dataDir });
    expect(process.exitCode).toBe(1);
    process.exitCode = before;
    // An edited file fails its checksum.
    const { cpSync } = await import('node:fs');
    cpSync(join(work, 'backup-1'), join(work, 'backup-edited'), { recursive: true });
    writeFileSync(join(work, 'backup-edited', 'jwt-secret'), 'edited');
    expect(() => verifyBackup(join(work, 'backup-edited'))).toThrow(/jwt-secret does not match its checksum/);
  });

  it('restores into a new data dir; a hub started on it answers the same queries', async () => {
    const dataDir = join(work, 'restored');
    await runRestore(join(work, 'backup-1'), { data: dataDir });
    expect(process.exitCode ?? 0).toBe(0);
    expect(existsSync(join(dataDir, MANIFEST))).toBe(false);
    expect(statSync(join(dataDir, 'state.db')).mode & 0o077).toBe(0);
    restored = await testHub({ energy, retention: { minFreeBytes: 0, minFreePercent: 0 } }, dataDir, clock);
    const token = await login(restored.hub);
    expect(await allEvents(restored.hub, token)).toBe(manifest.counts.events);
    expect(await alarmsOf(restored.hub, token)).toEqual(await alarmsOf(t.hub, admin));
    const q = `node=campus&from=${day0}&to=${day0 + 48 * HOUR}&step=1h`;
    expect((await api(restored.hub, token, `/api/energy/consumption?${q}`)).body).toEqual(consumption);
    // The old hub's tokens still work: the JWT key came with the backup.
    expect((await api(restored.hub, admin, '/api/health')).status).toBe(200);
  }, 60_000);
});
