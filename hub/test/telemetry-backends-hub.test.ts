import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { gatewayTopic } from '@warden/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../src/cli.ts';
import { MANIFEST, type BackupManifest } from '../src/lifecycle/backup.ts';
import { ackWatcher, api, connectGateway, eventually, FakeGatewayBatches, inventory, login, metric, registered, testHub, type TestHub } from './helpers.ts';
import { haveInfluxd, haveVictoria, startInfluxd, startVictoria, type TsdbServer } from './tsdb-servers.ts';

/*
 * A hub with telemetry.backend: influxdb (a real influxd started here): a gateway's batch over real MQTT lands in
 * InfluxDB and the REST telemetry query answers from it; with influxd stopped the batch is not acknowledged (the
 * gateway keeps it), and sent again after influxd is back it is stored and acknowledged. `warden backup` says the
 * telemetry is on the server.
 */

const GW = 'gw-tsdb';
const PASSWORD = 'tsdb-gateway-password';

describe.runIf(haveInfluxd)('hub with telemetry on InfluxDB', () => {
  let influxd: TsdbServer;
  let t: TestHub;
  let gw: MqttClient;
  let acks: Awaited<ReturnType<typeof ackWatcher>>;
  let token: string;
  const g = new FakeGatewayBatches(GW);
  const up = gatewayTopic(GW, 'up');
  const TS = Date.UTC(2026, 2, 1, 8, 0, 0); // data time; never compared with the wall clock

  const influxPoints = async (device: string): Promise<Array<[number, number]>> => {
    const res = await fetch(`${influxd.url}/query`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${influxd.username}:${influxd.password}`).toString('base64')}` },
      body: new URLSearchParams({ db: 'warden_hub', epoch: 'ms', q: `SELECT "value" FROM "telemetry" WHERE "device" = '${device}' AND "metric" = 'energy_kwh'` }),
    });
    const body = (await res.json()) as { results: Array<{ series?: Array<{ values: Array<[number, number]> }> }> };
    return body.results[0]?.series?.[0]?.values ?? [];
  };

  beforeAll(async () => {
    influxd = await startInfluxd();
    t = await testHub({
      ...registered({ [GW]: { password: PASSWORD, devices: [{ id: 'meter-1', kind: 'meter' }, { id: 'door-1', kind: 'door' }] } }),
      telemetry: { backend: 'influxdb', url: influxd.url, database: 'warden_hub', username: influxd.username, password: influxd.password, timeoutMs: 2000 },
    });
    gw = await connectGateway(t.hub.mqttUrl, GW, PASSWORD);
    acks = await ackWatcher(gw, GW);
    await gw.publishAsync(gatewayTopic(GW, 'inventory'), inventory(GW, [{ id: 'meter-1', kind: 'meter' }, { id: 'door-1', kind: 'door' }]), { qos: 1, retain: true });
    token = await login(t.hub);
  }, 60_000);

  afterAll(async () => {
    // Each step bounded and named, so a slow teardown says which part hung.
    const within = async (what: string, p: Promise<unknown> | undefined, ms = 20_000) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`teardown: ${what} took over ${ms} ms`)), ms)))]);
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      await within('closing the gateway client', gw?.endAsync(true));
      await within('stopping the hub', t?.close());
    } finally {
      await within('stopping influxd', influxd?.stop());
    }
  }, 70_000);

  it('stores a batch\'s telemetry in InfluxDB (not DuckDB) and answers the REST telemetry query from it', async () => {
    const records = [g.telemetry('meter-1', { energy_kwh: 100.5, power_kw: 3 }, TS), g.telemetry('meter-1', { energy_kwh: 101.25, power_kw: 4 }, TS + 60_000), g.event('door-1', 'door.opened', { door: 1 }, TS)];
    await gw.publishAsync(up, g.batch(records), { qos: 1 });
    await acks.until(g.seq);
    expect(await influxPoints('meter-1')).toEqual([
      [TS, 100.5],
      [TS + 60_000, 101.25],
    ]);
    expect(existsSync(join(t.dataDir, 'telemetry.duckdb'))).toBe(false);
    const tel = await api<{ points: number[][] }>(t.hub, token, `/api/telemetry?device=meter-1&metric=power_kw&from=${TS - 3_600_000}&to=${TS + 3_600_000}&step=1h&agg=avg`);
    expect(tel.status, JSON.stringify(tel.body)).toBe(200);
    expect(tel.body.points).toEqual([[TS, 3.5]]);
    expect(await metric(t.hub, 'warden_hub_telemetry_rows_written_total', { backend: 'influxdb' })).toBe(4);
  });

  it('with InfluxDB stopped the batch is not acknowledged (nor its events stored); resent after the restart it is', async () => {
    await influxd.halt();
    const failuresBefore = await metric(t.hub, 'warden_hub_store_write_failures_total');
    const records = [g.event('door-1', 'door.closed', { door: 1 }, TS + 120_000), g.telemetry('meter-1', { energy_kwh: 102, power_kw: 5 }, TS + 120_000)];
    const payload = g.batch(records);
    await gw.publishAsync(up, payload, { qos: 1 });
    await eventually(async () => (await metric(t.hub, 'warden_hub_store_write_failures_total')) === failuresBefore + 1, 'the failed uplink counted');
    expect(await metric(t.hub, 'warden_hub_telemetry_requests_total', { backend: 'influxdb', op: 'write', result: 'unreachable' })).toBeGreaterThanOrEqual(1);
    expect(acks.acks.some((a) => a >= g.seq)).toBe(false);
    const closed = await api<{ events: unknown[] }>(t.hub, token, '/api/events?type=door.closed');
    expect(closed.body.events).toHaveLength(0);
    // The hub keeps serving meanwhile; a telemetry query says what failed.
    const down = await api<{ error: { code: string; message: string } }>(t.hub, token, `/api/telemetry?device=meter-1&metric=power_kw&from=${TS}&to=${TS + 3_600_000}&step=1h&agg=avg`);
    expect(down.status).toBe(503);
    expect(down.body.error).toEqual({ code: 'telemetry_unavailable', message: expect.stringContaining('cannot be reached') });

    await influxd.restart();
    // What the edge agent does after its ack timeout: the same batch again.
    await gw.publishAsync(up, payload, { qos: 1 });
    await acks.until(g.seq);
    expect((await influxPoints('meter-1')).at(-1)).toEqual([TS + 120_000, 102]);
    expect((await api<{ events: unknown[] }>(t.hub, token, '/api/events?type=door.closed')).body.events).toHaveLength(1);
    const tel = await api<{ points: number[][] }>(t.hub, token, `/api/telemetry?device=meter-1&metric=energy_kwh&from=${TS}&to=${TS + 3_600_000}&step=1h&agg=last`);
    expect(tel.body.points).toEqual([[TS, 102]]);
  }, 40_000);

  it('a batch stored after one that failed is not acknowledged (its cumulative ack would cover the failed one) until the failed one is stored', async () => {
    await influxd.halt();
    const failuresBefore = await metric(t.hub, 'warden_hub_store_write_failures_total');
    const heldBefore = await metric(t.hub, 'warden_hub_ingest_acks_held_total');
    const opened = async () => (await api<{ events: unknown[] }>(t.hub, token, '/api/events?type=door.opened')).body.events.length;
    const openedBefore = await opened();
    const first = g.batch([g.telemetry('meter-1', { energy_kwh: 103, power_kw: 6 }, TS + 180_000)]);
    const failedSeq = g.seq;
    await gw.publishAsync(up, first, { qos: 1 });
    await eventually(async () => (await metric(t.hub, 'warden_hub_store_write_failures_total')) === failuresBefore + 1, 'the failed uplink counted');
    // The next batch carries no telemetry, so it is stored while influxd is still down; acking it would delete the first.
    const second = g.batch([g.event('door-1', 'door.opened', { door: 1 }, TS + 181_000)]);
    const secondSeq = g.seq;
    await gw.publishAsync(up, second, { qos: 1 });
    await eventually(async () => (await metric(t.hub, 'warden_hub_ingest_acks_held_total')) === heldBefore + 1, 'the ack held back');
    expect(await opened()).toBe(openedBefore + 1);
    expect(acks.acks.some((a) => a >= failedSeq)).toBe(false);

    await influxd.restart();
    // What the edge agent does after its ack timeout: everything unacknowledged again, from the oldest.
    await gw.publishAsync(up, first, { qos: 1 });
    await gw.publishAsync(up, second, { qos: 1 });
    await acks.until(secondSeq);
    expect((await influxPoints('meter-1')).at(-1)).toEqual([TS + 180_000, 103]);
    expect(await opened()).toBe(openedBefore + 1);
  }, 40_000);

  it('warden backup says the telemetry is on the InfluxDB server, not in the backup', async () => {
    const work = await mkdtemp(join(tmpdir(), 'warden-tsdb-backup-'));
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      await runBackup(join(work, 'b'), { data: t.dataDir });
    } finally {
      console.log = log;
    }
    const m = JSON.parse(readFileSync(join(work, 'b', MANIFEST), 'utf8')) as BackupManifest;
    expect(m.telemetry).toMatchObject({ backend: 'influxdb', url: influxd.url, database: 'warden_hub' });
    expect(m.files.some((f) => f.name === 'telemetry.duckdb')).toBe(false);
    expect(lines.join('\n')).toMatch(/NOTE: telemetry is NOT in this backup: it lives on the InfluxDB server .*\(influxd backup -portable/);
    expect(readFileSync(join(work, 'b', 'telemetry-backend.json'), 'utf8')).not.toContain(influxd.password);
    await rm(work, { recursive: true, force: true });
  });
});

if (!haveInfluxd) console.warn('SKIPPING the InfluxDB hub test: /usr/bin/influxd is not installed (Debian package influxdb)');
if (!haveVictoria) console.warn('SKIPPING the VictoriaMetrics hub test: /usr/bin/victoria-metrics is not installed (Debian package victoria-metrics)');

describe.runIf(haveVictoria)('hub with telemetry on VictoriaMetrics', () => {
  let victoria: TsdbServer;
  let t: TestHub;
  let gw: MqttClient;
  let acks: Awaited<ReturnType<typeof ackWatcher>>;
  let token: string;
  const g = new FakeGatewayBatches(GW);
  const up = gatewayTopic(GW, 'up');
  const TS = Date.UTC(2026, 2, 2, 8, 0, 0);

  beforeAll(async () => {
    victoria = await startVictoria();
    t = await testHub({
      ...registered({ [GW]: { password: PASSWORD, devices: [{ id: 'meter-1', kind: 'meter' }] } }),
      telemetry: { backend: 'victoriametrics', url: victoria.url, username: victoria.username, password: victoria.password, timeoutMs: 2000 },
    });
    gw = await connectGateway(t.hub.mqttUrl, GW, PASSWORD);
    acks = await ackWatcher(gw, GW);
    await gw.publishAsync(gatewayTopic(GW, 'inventory'), inventory(GW, [{ id: 'meter-1', kind: 'meter' }]), { qos: 1, retain: true });
    token = await login(t.hub);
  }, 60_000);

  afterAll(async () => {
    try {
      await gw?.endAsync(true);
      await t?.close();
    } finally {
      await victoria?.stop();
    }
  }, 60_000);

  it('stores telemetry there (visible after its ~1 s flush); not acknowledged while it is down, stored when resent', async () => {
    await gw.publishAsync(up, g.batch([g.telemetry('meter-1', { power_kw: 3 }, TS), g.telemetry('meter-1', { power_kw: 5 }, TS + 60_000)]), { qos: 1 });
    await acks.until(g.seq);
    const path = `/api/telemetry?device=meter-1&metric=power_kw&from=${TS - 3_600_000}&to=${TS + 3_600_000}&step=1h&agg=avg`;
    await eventually(async () => JSON.stringify((await api<{ points: number[][] }>(t.hub, token, path)).body.points) === JSON.stringify([[TS, 4]]), 'REST answers from VictoriaMetrics');

    await victoria.halt();
    const payload = g.batch([g.telemetry('meter-1', { power_kw: 7 }, TS + 120_000)]);
    await gw.publishAsync(up, payload, { qos: 1 });
    await eventually(async () => (await metric(t.hub, 'warden_hub_telemetry_requests_total', { backend: 'victoriametrics', op: 'write', result: 'unreachable' })) >= 1, 'the failed write counted');
    expect(acks.acks.some((a) => a >= g.seq)).toBe(false);
    await victoria.restart();
    await gw.publishAsync(up, payload, { qos: 1 });
    await acks.until(g.seq);
    await eventually(async () => JSON.stringify((await api<{ points: number[][] }>(t.hub, token, path)).body.points) === JSON.stringify([[TS, 5]]), 'the resent row in the hour');
  }, 40_000);
});
