import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { gatewayTopic, validateAck, type Ack } from '@warden/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectGateway, eventually, FakeGatewayBatches, inventory, metric, registered, testHub, type TestHub } from './helpers.ts';

const DOORS = Array.from({ length: 20 }, (_, i) => ({ id: `door-${i}`, kind: 'door' as const }));
const DEVICES = [...DOORS, { id: 'meter-1', kind: 'meter' as const }];
type Rec = { id: string; seq: number; device: string; type?: string };

/**
 * Priority-lane batches from a gateway (`lane: 'priority'`, what the edge sends ahead of its backlog) over real MQTT,
 * behind bulk batches of the same gateway that also carry the device's earlier records: each device's events stored in
 * seq order, every record once, the lane acknowledged by its seqs (never cumulatively, and no cumulative ack names its
 * seqs), the forced door's alarm raised; a bad lane is refused. How far ahead it lands is timing: the edge test and
 * deploy/test/uplink-lane.test.ts show it end to end, `npm run bench uplink-lane` measures it.
 */
describe('ingest: priority-lane batches', () => {
  let t: TestHub;
  let gw: MqttClient;
  const acks: Ack[] = [];
  const g = new FakeGatewayBatches('gw-lane');
  const up = gatewayTopic('gw-lane', 'up');
  const lane = (records: unknown[], laneName = 'priority') => JSON.stringify({ v: 1, gw: 'gw-lane', lane: laneName, records });
  const db = () => new Database(join(t.dataDir, 'state.db'), { readonly: true });

  beforeAll(async () => {
    t = await testHub(registered({ 'gw-lane': { password: 'lane-gateway-password', devices: DEVICES } }));
    gw = await connectGateway(t.hub.mqttUrl, 'gw-lane', 'lane-gateway-password');
    gw.on('message', (topic, payload) => {
      if (topic !== gatewayTopic('gw-lane', 'ack')) return;
      const v = validateAck(JSON.parse(payload.toString()));
      if (!v.ok) throw new Error(v.detail);
      acks.push(v.value);
    });
    await gw.subscribeAsync(gatewayTopic('gw-lane', 'ack'), { qos: 1 });
    await gw.publishAsync(gatewayTopic('gw-lane', 'inventory'), inventory('gw-lane', DEVICES), { qos: 1, retain: true });
  });
  afterAll(async () => {
    await gw.endAsync();
    await t.close();
  });

  it('stores a priority batch sent behind bulk batches: per device in seq order, once, acked by its seqs, alarm raised', async () => {
    const BATCHES = 40;
    const PER = 400;
    const bulk: Rec[][] = [];
    for (let b = 0; b < BATCHES; b++) bulk.push(Array.from({ length: PER }, (_, i) => g.event(`door-${i % 20}`, i % 2 ? 'door.closed' : 'door.opened', { door: 1 })));
    const forced = g.event('door-7', 'door.forced', { door: 1 });
    const reading = g.telemetry('meter-1', { power_kw: 3 });
    // What the edge sends: door-7's records not yet acknowledged (all of them: the bulk batches are still in flight),
    // then the forced door; and a reading of its own.
    const priority = [...bulk.flat().filter((r) => r.device === 'door-7'), reading, forced];
    for (const b of bulk) gw.publish(up, g.batch(b), { qos: 1 });
    await gw.publishAsync(up, lane(priority), { qos: 1 });

    await eventually(() => acks.some((a) => 'seqs' in a), 'the priority ack', 30_000);
    const pa = acks.find((a) => 'seqs' in a)!;
    expect(pa).toEqual({ v: 1, lane: 'priority', seqs: priority.map((r) => r.seq) });
    await eventually(() => acks.some((a) => 'upTo' in a && a.upTo === bulk.at(-1)!.at(-1)!.seq), 'the bulk acks', 60_000);
    // The bulk acks cover the bulk batches only: their highest seq, never the forced door's.
    expect(acks.filter((a) => 'upTo' in a).map((a) => ('upTo' in a ? a.upTo : 0))).not.toContain(forced.seq);

    const d = db();
    try {
      const rows = d.prepare("SELECT n, id, seq, device, type FROM events WHERE gateway = 'gw-lane' ORDER BY n").all() as Array<Rec & { n: number }>;
      const total = BATCHES * PER + 1;
      expect(rows).toHaveLength(total);
      expect(new Set(rows.map((r) => r.id)).size).toBe(total);
      // door-7's events in the order the gateway numbered them, wherever each was stored from (bulk or lane).
      const seven = rows.filter((r) => r.device === 'door-7').map((r) => r.seq);
      expect(seven).toEqual([...seven].sort((a, b) => a - b));
      expect(seven.at(-1)).toBe(forced.seq);
      for (const door of DOORS) {
        const seqs = rows.filter((r) => r.device === door.id).map((r) => r.seq);
        expect(seqs, door.id).toEqual([...seqs].sort((a, b) => a - b));
      }
      // The forced door's alarm, raised from the priority batch.
      const alarm = d.prepare("SELECT type, device FROM alarms WHERE device = 'door-7' AND type = 'door.forced'").get();
      expect(alarm).toEqual({ type: 'door.forced', device: 'door-7' });
    } finally {
      d.close();
    }
    expect(await metric(t.hub, 'warden_hub_records_stored_total', { kind: 'telemetry' })).toBe(1);
    expect(await metric(t.hub, 'warden_hub_priority_batches_total')).toBe(1);
    expect(await metric(t.hub, 'warden_hub_priority_events_total')).toBeGreaterThanOrEqual(1);

    // Sent again (its ack was lost): stored nothing twice, acknowledged again by the same seqs.
    const before = acks.length;
    await gw.publishAsync(up, lane(priority), { qos: 1 });
    await eventually(() => acks.length > before, 'the second priority ack');
    expect(acks.at(-1)).toEqual(pa);
    const d2 = db();
    try {
      expect((d2.prepare("SELECT count(*) AS n FROM events WHERE gateway = 'gw-lane'").get() as { n: number }).n).toBe(BATCHES * PER + 1);
    } finally {
      d2.close();
    }
    expect(await metric(t.hub, 'warden_hub_records_stored_total', { kind: 'telemetry' })).toBe(1);
  });

  it('refuses an unknown lane with a clear error, counted and dead-lettered, without an ack', async () => {
    const before = acks.length;
    const refusedBefore = await metric(t.hub, 'warden_hub_rejected_total', { reason: 'schema_invalid' });
    await gw.publishAsync(up, lane([g.event('door-1', 'door.forced', { door: 1 })], 'urgent'), { qos: 1 });
    await eventually(async () => (await metric(t.hub, 'warden_hub_rejected_total', { reason: 'schema_invalid' })) === refusedBefore + 1, 'refusal counted');
    const d = db();
    try {
      const dl = d.prepare("SELECT detail FROM dead_letters WHERE reason = 'schema_invalid' ORDER BY id DESC LIMIT 1").get() as { detail: string };
      expect(dl.detail).toMatch(/^batch: \/lane/);
    } finally {
      d.close();
    }
    // A later batch is still served; the refused one was never acknowledged.
    const ok = g.event('door-1', 'door.opened', { door: 1 });
    await gw.publishAsync(up, g.batch([ok]), { qos: 1 });
    await eventually(() => acks.length > before, 'the next ack');
    expect(acks.slice(before)).toEqual([{ v: 1, upTo: ok.seq }]);
  });

  it('validateAck names what is wrong with a priority ack', () => {
    expect(validateAck({ v: 1, lane: 'priority', seqs: [] })).toMatchObject({ ok: false, detail: expect.stringMatching(/^priority ack: \/seqs/) });
    expect(validateAck({ v: 1, seqs: [3, 4] })).toMatchObject({ ok: false, detail: expect.stringMatching(/^priority ack: .*lane/) });
    expect(validateAck({ v: 1, upTo: -1 })).toMatchObject({ ok: false, detail: expect.stringMatching(/^ack: \/upTo/) });
    expect(validateAck({ v: 1, lane: 'priority', seqs: [3, 4] })).toMatchObject({ ok: true });
  });
});
