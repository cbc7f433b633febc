import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { gatewayTopic } from '@warden/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackWatcher, connectGateway, eventually, FakeGatewayBatches, inventory, metric, registered, testHub, type TestHub } from './helpers.ts';

const BULK_DOORS = Array.from({ length: 20 }, (_, i) => ({ id: `bulk-${i}`, kind: 'door' as const }));

/**
 * The priority lane over real MQTT: a gateway floods the hub with batches of routine door events, then a forced
 * door arrives (from another gateway, and from the flooding gateway itself at the end of its backlog). The forced
 * doors are stored ahead of the bulk backlog; a device whose earlier events wait in the backlog keeps its order;
 * every record is stored once and acknowledged.
 */
describe('ingest priority lane', () => {
  let t: TestHub;
  let bulk: MqttClient;
  let safe: MqttClient;

  beforeAll(async () => {
    t = await testHub(
      registered({
        'gw-bulk': { password: 'bulk-gateway-password', devices: BULK_DOORS },
        'gw-safe': { password: 'safe-gateway-password', devices: [{ id: 'door-s', kind: 'door' }] },
      }),
    );
    bulk = await connectGateway(t.hub.mqttUrl, 'gw-bulk', 'bulk-gateway-password');
    safe = await connectGateway(t.hub.mqttUrl, 'gw-safe', 'safe-gateway-password');
    await bulk.publishAsync(gatewayTopic('gw-bulk', 'inventory'), inventory('gw-bulk', BULK_DOORS), { qos: 1, retain: true });
    await safe.publishAsync(gatewayTopic('gw-safe', 'inventory'), inventory('gw-safe', [{ id: 'door-s', kind: 'door' }]), { qos: 1, retain: true });
  });
  afterAll(async () => {
    await bulk.endAsync();
    await safe.endAsync();
    await t.close();
  });

  it('a forced door from another gateway overtakes a bulk backlog, per-device order kept, nothing lost', async () => {
    const g = new FakeGatewayBatches('gw-bulk');
    const s = new FakeGatewayBatches('gw-safe');
    const acks = await ackWatcher(bulk, 'gw-bulk');
    const BATCHES = 80;
    const PER = 400;
    const payloads: string[] = [];
    let opened = '';
    for (let b = 0; b < BATCHES; b++) {
      const records = Array.from({ length: PER }, (_, i) => g.event(`bulk-${i % 20}`, i % 2 ? 'door.closed' : 'door.opened', { door: 1 }));
      // bulk-7's last routine event before its forced door sits in the middle of the backlog.
      if (b === BATCHES / 2) opened = (records[7] as { id: string }).id;
      payloads.push(g.batch(records));
    }
    // The flooding gateway's own forced door, in the middle of its stream: the hub cannot read it before the messages
    // ahead of it on the same connection (that is the edge outbox's job), but once read it is lifted with bulk-7's
    // earlier events still waiting, so bulk-7 keeps its order.
    const lastBulk = g.event('bulk-7', 'door.forced', { door: 1 });
    payloads.splice(BATCHES - 20, 0, g.batch([lastBulk]));
    for (const p of payloads) bulk.publish(gatewayTopic('gw-bulk', 'up'), p, { qos: 1 });
    const forced = s.event('door-s', 'door.forced', { door: 1 });
    await safe.publishAsync(gatewayTopic('gw-safe', 'up'), s.batch([forced]), { qos: 1 });

    await acks.until(g.seq);
    const total = BATCHES * PER + 1;
    await eventually(async () => (await metric(t.hub, 'warden_hub_records_stored_total', { kind: 'event' })) >= total + 1, 'everything stored', 30_000);
    const db = new Database(join(t.dataDir, 'state.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT n, id, device, type FROM events WHERE gateway IN ('gw-bulk', 'gw-safe') ORDER BY n").all() as Array<{ n: number; id: string; device: string; type: string }>;
      expect(rows).toHaveLength(total + 1);
      expect(new Set(rows.map((r) => r.id)).size).toBe(total + 1);
      const pos = new Map(rows.map((r, i) => [r.id, i]));
      // Both forced doors are stored ahead of the bulk tail (the last routine events sent before them).
      const tail = pos.get((JSON.parse(payloads.at(-1)!) as { records: Array<{ id: string }> }).records.at(-1)!.id)!;
      expect(pos.get(forced.id)!).toBeLessThan(tail);
      // bulk-7's events are stored in the order the gateway sent them (its seq order), the forced door last.
      const seven = rows.filter((r) => r.device === 'bulk-7').map((r) => r.id);
      const sent = payloads.flatMap((p) => (JSON.parse(p) as { records: Array<{ id: string; device: string }> }).records).filter((r) => r.device === 'bulk-7').map((r) => r.id);
      expect(seven).toEqual(sent);
      expect(pos.get(opened)!).toBeLessThan(pos.get(lastBulk.id)!);
    } finally {
      db.close();
    }
    expect(await metric(t.hub, 'warden_hub_priority_events_total')).toBeGreaterThanOrEqual(2);
    expect(await metric(t.hub, 'warden_hub_duplicates_total')).toBe(0);
  });
});
