import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { gatewayTopic, newId } from '@warden/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackWatcher, api, connectGateway, eventually, FakeGatewayBatches, inventory, login, metric, registered, testHub, type TestHub } from './helpers.ts';

interface EventsPage {
  events: Array<{ id: string; seq: number; device: string; type: string; data: Record<string, unknown> }>;
  next: string | null;
}

describe('ingest over real MQTT', () => {
  let t: TestHub;
  let gw: MqttClient;
  let acks: Awaited<ReturnType<typeof ackWatcher>>;
  let token: string;
  const g = new FakeGatewayBatches('gw-in');
  const up = gatewayTopic('gw-in', 'up');

  const deadLetters = (): Array<{ reason: string; detail: string; gateway: string; record_id: string | null; raw: string }> => {
    const db = new Database(join(t.dataDir, 'state.db'), { readonly: true });
    try {
      return db.prepare('SELECT reason, detail, gateway, record_id, raw FROM dead_letters ORDER BY id').all() as never;
    } finally {
      db.close();
    }
  };
  const rejected = (reason: string) => metric(t.hub, 'warden_hub_rejected_total', { reason });

  beforeAll(async () => {
    t = await testHub(
      registered({
        'gw-in': { password: 'ingest-gateway-password', devices: [{ id: 'door-1', kind: 'door' }, { id: 'meter-1', kind: 'meter' }] },
        'gw-other': { password: 'other-gateway-password', devices: [{ id: 'door-9', kind: 'door' }] },
      }),
    );
    const { password } = await t.hub.provisionGateway('gw-in', 'Ingest', 'ingest-gateway-password');
    await t.hub.provisionGateway('gw-other', 'Other', 'other-gateway-password');
    gw = await connectGateway(t.hub.mqttUrl, 'gw-in', password);
    acks = await ackWatcher(gw, 'gw-in');
    await gw.publishAsync(
      gatewayTopic('gw-in', 'inventory'),
      inventory('gw-in', [
        { id: 'door-1', kind: 'door' },
        { id: 'meter-1', kind: 'meter' },
      ]),
      { qos: 1, retain: true },
    );
    const other = await connectGateway(t.hub.mqttUrl, 'gw-other', 'other-gateway-password');
    await other.publishAsync(gatewayTopic('gw-other', 'inventory'), inventory('gw-other', [{ id: 'door-9', kind: 'door' }]), { qos: 1, retain: true });
    await other.endAsync();
    token = await login(t.hub);
    await eventually(async () => (await api<{ devices: unknown[] }>(t.hub, token, '/api/devices')).body.devices.length === 3, 'inventories applied');
  });
  afterAll(async () => {
    await gw.endAsync();
    await t.close();
  });

  it('stores a valid batch (events in SQLite, telemetry in DuckDB) and acks its highest seq', async () => {
    const ts = Date.UTC(2026, 1, 1, 12, 0, 0);
    const records = [g.event('door-1', 'door.opened', { door: 1 }, ts), g.telemetry('meter-1', { energy_kwh: 10.5, power_kw: 2 }, ts), g.event('door-1', 'door.closed', { door: 1 }, ts + 1000)];
    await gw.publishAsync(up, g.batch(records), { qos: 1 });
    await acks.until(g.seq);
    const page = (await api<EventsPage>(t.hub, token, '/api/events?device=door-1')).body;
    expect(page.events.map((e) => e.type)).toEqual(['door.closed', 'door.opened']);
    const tel = await api<{ points: number[][] }>(t.hub, token, `/api/telemetry?device=meter-1&metric=energy_kwh&from=${ts - 60_000}&to=${ts + 60_000}&step=60s&agg=last`);
    expect(tel.body, JSON.stringify(tel.body)).toMatchObject({ points: [[ts, 10.5]] });
    expect(await metric(t.hub, 'warden_hub_records_stored_total', { kind: 'event' })).toBe(2);
    expect(await metric(t.hub, 'warden_hub_records_stored_total', { kind: 'telemetry' })).toBe(1);
  });

  it('stores a resent batch once, counts the duplicates and acks it again', async () => {
    const records = [g.event('door-1', 'door.forced', { door: 1 }), g.telemetry('meter-1', { energy_kwh: 11 })];
    const payload = g.batch(records);
    await gw.publishAsync(up, payload, { qos: 1 });
    await acks.until(g.seq);
    const ackCount = acks.acks.length;
    await gw.publishAsync(up, payload, { qos: 1 });
    await eventually(() => acks.acks.length > ackCount, 'second ack');
    expect(acks.acks.at(-1)).toBe(g.seq);
    const forced = (await api<EventsPage>(t.hub, token, '/api/events?type=door.forced')).body.events;
    expect(forced).toHaveLength(1);
    expect(await metric(t.hub, 'warden_hub_duplicates_total')).toBe(2);
    const tel = await api<{ points: number[][] }>(t.hub, token, '/api/telemetry?device=meter-1&metric=energy_kwh&step=1d&agg=sum');
    expect(tel.body.points.reduce((n, [, v]) => n + v!, 0)).toBe(11); // the old-dated 10.5 is outside the default 24 h
  });

  it('refuses malformed JSON, counted and dead-lettered, without an ack', async () => {
    const ackCount = acks.acks.length;
    await gw.publishAsync(up, '{"v":1,"gw":"gw-in","records":[', { qos: 1 });
    await eventually(async () => (await rejected('malformed_json')) === 1, 'malformed_json counted');
    const dl = deadLetters().find((d) => d.reason === 'malformed_json');
    expect(dl).toMatchObject({ gateway: 'gw-in', raw: '{"v":1,"gw":"gw-in","records":[' });
    expect(acks.acks.length).toBe(ackCount);
  });

  it('refuses a batch naming another gateway as wrong_gateway', async () => {
    await gw.publishAsync(up, JSON.stringify({ v: 1, gw: 'gw-other', records: [g.event('door-1', 'door.opened', {})] }), { qos: 1 });
    await eventually(async () => (await rejected('wrong_gateway')) === 1, 'wrong_gateway counted');
    expect(deadLetters().find((d) => d.reason === 'wrong_gateway')?.detail).toMatch(/gw-other/);
  });

  it('refuses bad records one by one, keeps the good ones and acks the whole batch', async () => {
    const good = g.event('door-1', 'access.granted', { method: 'card', credential: 'c-1' });
    const badData = g.event('door-1', 'access.granted', { method: 'telepathy' });
    const unknownType = g.event('door-1', 'door.exploded', {});
    const unknownDevice = g.event('door-404', 'door.opened', {});
    const foreignDevice = g.event('door-9', 'door.opened', {});
    const noKind = { id: newId(), seq: ++g.seq, device: 'door-1', ts: Date.now() };
    await gw.publishAsync(up, g.batch([good, badData, unknownType, unknownDevice, foreignDevice, noKind]), { qos: 1 });
    await acks.until(g.seq);
    expect(await rejected('schema_invalid')).toBe(2);
    expect(await rejected('unknown_type')).toBe(1);
    expect(await rejected('unknown_device')).toBe(2);
    const dls = deadLetters();
    expect(dls.find((d) => d.record_id === badData.id)).toMatchObject({ reason: 'schema_invalid', gateway: 'gw-in' });
    expect(dls.find((d) => d.record_id === badData.id)!.detail).toMatch(/access\.granted data: \/method/);
    expect(dls.find((d) => d.record_id === unknownType.id)?.reason).toBe('unknown_type');
    expect(dls.find((d) => d.record_id === unknownDevice.id)?.detail).toMatch(/not registered/);
    expect(dls.find((d) => d.record_id === foreignDevice.id)?.detail).toMatch(/belongs to gateway gw-other/);
    expect(JSON.parse(dls.find((d) => d.record_id === noKind.id)!.raw)).toEqual(noKind);
    const granted = (await api<EventsPage>(t.hub, token, '/api/events?type=access.*')).body.events;
    expect(granted.map((e) => e.id)).toEqual([good.id]);
  });

  it('refuses a schema-invalid envelope, and invalid status and inventory payloads', async () => {
    await gw.publishAsync(up, JSON.stringify({ v: 2, gw: 'gw-in', records: [] }), { qos: 1 });
    await gw.publishAsync(gatewayTopic('gw-in', 'status'), JSON.stringify({ v: 1, gw: 'gw-in', state: 'sleepy', ts: Date.now() }), { qos: 1 });
    await gw.publishAsync(gatewayTopic('gw-in', 'inventory'), '[]', { qos: 1 });
    await eventually(async () => (await rejected('schema_invalid')) === 5, 'three more schema_invalid');
    expect(deadLetters().filter((d) => d.detail.startsWith('batch:'))).toHaveLength(1);
    expect(deadLetters().some((d) => d.detail.startsWith('status:'))).toBe(true);
    // The broken inventory changed nothing.
    expect((await api<{ devices: unknown[] }>(t.hub, token, '/api/devices?gateway=gw-in')).body.devices).toHaveLength(2);
  });

  it('keeps arrival order across many batches in flight and acks cumulatively', async () => {
    const first = g.seq + 1;
    const sends: Array<Promise<unknown>> = [];
    for (let b = 0; b < 20; b++) {
      sends.push(gw.publishAsync(up, g.batch(Array.from({ length: 25 }, () => g.event('door-1', 'door.opened', { door: 2 }))), { qos: 1 }));
    }
    await Promise.all(sends);
    await acks.until(g.seq);
    const newest = acks.acks.slice(-20);
    expect([...newest].sort((a, b) => a - b)).toEqual(newest);
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const page: EventsPage = (await api<EventsPage>(t.hub, token, `/api/events?device=door-1&limit=200${cursor ? `&before=${cursor}` : ''}`)).body;
      seqs.push(...page.events.map((e) => e.seq));
      cursor = page.next;
    } while (cursor);
    const mine = seqs.filter((s) => s >= first).reverse();
    expect(mine).toEqual(Array.from({ length: 500 }, (_, i) => first + i));
  });

  it('keeps serving after all that', async () => {
    const ev = g.event('door-1', 'door.held_open', { seconds: 30 });
    await gw.publishAsync(up, g.batch([ev]), { qos: 1 });
    await acks.until(ev.seq);
    expect((await api<EventsPage>(t.hub, token, '/api/events?limit=1')).body.events[0]!.id).toBe(ev.id);
    expect(gw.connected).toBe(true);
  });
});
