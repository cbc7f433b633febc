import { mkdirSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, type EventRecord } from '@warden/contract';
import { AlarmsModule } from '../src/alarms/module.ts';
import { LifecycleModule } from '../src/lifecycle/module.ts';
import { startModules, type StartedModules } from '../src/module.ts';
import { InfluxDbTelemetryStore } from '../src/store/influx-telemetry.ts';
import { moduleContext, type TestContext } from './module-context.ts';
import { freePort } from './tsdb-servers.ts';

const DAY = 86_400_000;
/** The hub clock of these tests: any date works, every age below is relative to it. */
const NOW = Date.UTC(2027, 5, 15, 12, 0, 0);

const event = (ts: number): EventRecord => ({ id: newId(), seq: 1, device: 'door-1', ts, kind: 'event', type: 'door.opened', data: { door: 1 } }) as EventRecord;

function insertAlarm(t: TestContext, state: 'raised' | 'resolved', firstAt: number, resolvedAt: number | null): string {
  const id = newId();
  t.ctx.stores.db
    .prepare(
      `INSERT INTO alarms (id, rule, type, priority, state, latching, device, title, first_at, last_at, resolved_at, open_key)
       VALUES (?, 'door-forced', 'door.forced', 'high', ?, 0, 'door-1', 'Door forced open', ?, ?, ?, ?)`,
    )
    .run(id, state, firstAt, firstAt, resolvedAt, state === 'resolved' ? null : id);
  t.ctx.stores.db.prepare("INSERT INTO alarm_timeline (alarm, ts, kind) VALUES (?, ?, 'raised')").run(id, firstAt);
  return id;
}

describe('data lifecycle: retention per data class on the hub clock', () => {
  let t: TestContext;
  let modules: StartedModules | undefined;
  beforeEach(async () => {
    t = await moduleContext(
      {
        retention: { events: 30, alarms: 90, telemetryRaw: 60, deadLetters: 7, snapshots: 14, minFreeBytes: 0, minFreePercent: 0 },
        auth: { auditRetentionDays: 180 },
      },
      NOW,
    );
  });
  afterEach(async () => {
    await modules?.stop();
    modules = undefined;
    await t.close();
  });

  it('removes what is older than its class retention, keeps what is newer, never open alarms, audit at least 180 days', async () => {
    const { stores } = t.ctx;
    // Events: 31 days old goes (30-day retention), 29 days stays.
    const oldEv = event(NOW - 31 * DAY);
    const newEv = event(NOW - 29 * DAY);
    stores.events.insert(oldEv, 'gw-1', NOW - 31 * DAY);
    stores.events.insert(newEv, 'gw-1', NOW - 29 * DAY);
    // Alarms: resolved 100 days ago goes; resolved 80 days ago stays; raised 400 days ago and still open stays.
    const oldAlarm = insertAlarm(t, 'resolved', NOW - 120 * DAY, NOW - 100 * DAY);
    const newAlarm = insertAlarm(t, 'resolved', NOW - 85 * DAY, NOW - 80 * DAY);
    const openAlarm = insertAlarm(t, 'raised', NOW - 400 * DAY, null);
    // Dead letters: 8 days goes, 6 stays.
    stores.deadLetters.add({ gateway: 'gw-1', reason: 'schema_invalid', detail: 'old', raw: '{}' }, NOW - 8 * DAY);
    stores.deadLetters.add({ gateway: 'gw-1', reason: 'schema_invalid', detail: 'new', raw: '{}' }, NOW - 6 * DAY);
    // Audit (in time order, as written): 200 days goes, 179 days stays although retention is the minimum 180.
    stores.audit.record('admin', 'user.create', 'old', {}, NOW - 200 * DAY);
    stores.audit.record('admin', 'user.create', 'kept', {}, NOW - 179 * DAY);
    stores.audit.record('admin', 'user.create', 'recent', {}, NOW - DAY);
    // Telemetry: 61 days goes, 59 stays.
    await stores.telemetry.append([
      { ts: NOW - 61 * DAY, device: 'meter-1', metric: 'energy_kwh', value: 1 },
      { ts: NOW - 59 * DAY, device: 'meter-1', metric: 'energy_kwh', value: 2 },
    ]);
    // Snapshots: a 15-day-old file goes, a 13-day-old one stays.
    const snaps = join(t.ctx.config.dataDir, 'snapshots');
    mkdirSync(snaps, { recursive: true });
    writeFileSync(join(snaps, 'old.jpg'), 'x');
    writeFileSync(join(snaps, 'new.jpg'), 'y');
    utimesSync(join(snaps, 'old.jpg'), (NOW - 15 * DAY) / 1000, (NOW - 15 * DAY) / 1000);
    utimesSync(join(snaps, 'new.jpg'), (NOW - 13 * DAY) / 1000, (NOW - 13 * DAY) / 1000);

    const lifecycle = new LifecycleModule();
    modules = await startModules([lifecycle], t.ctx);
    const out = await lifecycle.runOnce();
    expect(out).toMatchObject({ events: 1, alarms: 1, telemetry_raw: 1, dead_letters: 1, audit: 1, snapshots: 1 });

    expect(stores.events.query({ limit: 10 }).events.map((e) => e.id)).toEqual([newEv.id]);
    const alarms = stores.db.prepare('SELECT id FROM alarms ORDER BY n').all() as Array<{ id: string }>;
    expect(alarms.map((a) => a.id)).toEqual([newAlarm, openAlarm]);
    expect(stores.db.prepare('SELECT count(*) AS n FROM alarm_timeline WHERE alarm = ?').get(oldAlarm)).toEqual({ n: 0 });
    expect(stores.deadLetters.recent().map((d) => d.detail)).toEqual(['new']);
    expect(stores.audit.list(10).map((a) => a.target)).toEqual(['recent', 'kept']);
    expect(stores.audit.verify().ok).toBe(true);
    const rows = await stores.telemetry.query({ device: 'meter-1', metric: 'energy_kwh', from: NOW - 100 * DAY, to: NOW, stepMs: DAY, agg: 'last' });
    expect(rows.map(([, v]) => v)).toEqual([2]);
    expect(existsSync(join(snaps, 'old.jpg'))).toBe(false);
    expect(existsSync(join(snaps, 'new.jpg'))).toBe(true);

    // A year later on the same hub clock, without new data: the rest ages out too, open alarms and recent audit excepted.
    t.setNow(NOW + 365 * DAY);
    const later = await lifecycle.runOnce();
    expect(later).toMatchObject({ events: 1, alarms: 1, telemetry_raw: 1, dead_letters: 1, audit: 2, snapshots: 1 });
    expect((stores.db.prepare('SELECT id FROM alarms').all() as Array<{ id: string }>).map((a) => a.id)).toEqual([openAlarm]);

    const metrics = await t.ctx.metrics.registry.metrics();
    expect(metrics).toContain('warden_hub_retention_pruned_total{class="events"} 2');
    expect(metrics).toContain('warden_hub_retention_pruned_total{class="audit"} 3');
    expect(metrics).toMatch(/warden_hub_retention_last_run_timestamp_seconds \d+/);
    expect(metrics).toMatch(/warden_hub_data_dir_free_bytes [1-9]\d*/);
  });

  it('prunes every other class when the telemetry server is down, and counts and reports the class that failed', async () => {
    const { stores } = t.ctx;
    const oldEv = event(NOW - 31 * DAY);
    stores.events.insert(oldEv, 'gw-1', NOW - 31 * DAY);
    // A real InfluxDB client against a loopback port where nothing listens: its prune fails as a down server's would.
    const down = await InfluxDbTelemetryStore.open({ url: `http://127.0.0.1:${await freePort()}`, database: 'warden', timeoutMs: 2000 });
    const duck = stores.telemetry;
    (stores as { telemetry: typeof duck }).telemetry = down;
    try {
      const lifecycle = new LifecycleModule();
      modules = await startModules([lifecycle], t.ctx);
      await expect(lifecycle.runOnce()).rejects.toThrow(/pruning telemetry_raw failed/);
      expect(stores.events.query({ limit: 10 }).events).toHaveLength(0);
      const metrics = await t.ctx.metrics.registry.metrics();
      expect(metrics).toContain('warden_hub_retention_failures_total{class="telemetry_raw"} 1');
      expect(metrics).toContain('warden_hub_retention_failures_total{class="events"} 0');
      expect(metrics).toContain('warden_hub_retention_pruned_total{class="events"} 1');
    } finally {
      (stores as { telemetry: typeof duck }).telemetry = duck;
      await down.close();
    }
  });

  it('refuses a config that keeps the audit log less than 180 days', async () => {
    await expect(moduleContext({ auth: { auditRetentionDays: 90 } })).rejects.toThrow(/auditRetentionDays/);
  });
});

describe('data lifecycle: disk space alarm', () => {
  it('raises one hub.disk_low alarm when the data dir has less free space than configured, and reports the free space', async () => {
    // No real disk is filled: the threshold is set above the free space of the test's file system.
    const t = await moduleContext({ retention: { minFreeBytes: Number.MAX_SAFE_INTEGER } }, NOW);
    const alarms = new AlarmsModule();
    const lifecycle = new LifecycleModule({ alarms });
    const modules = await startModules([alarms, lifecycle], t.ctx);
    try {
      const open = () => alarms.repo.findOpen('hub.disk_low', 'hub', null);
      const a = open();
      expect(a).toMatchObject({ type: 'hub.disk_low', device: 'hub', priority: 'high', state: 'raised' });
      expect((await lifecycle.checkDisk()).low).toBe(true);
      expect(open()!.id).toBe(a!.id); // still one alarm
      expect(await t.ctx.metrics.registry.metrics()).toMatch(/warden_hub_data_dir_size_bytes [1-9]\d*/);
    } finally {
      await modules.stop();
      await t.close();
    }
  });
});
