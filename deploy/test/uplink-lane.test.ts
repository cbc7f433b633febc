import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing.ts';
import { FaultCampus } from './faults-campus.ts';

const GW = 'gw-lane';
const BULK = ['door-ul-1', 'door-ul-2', 'door-ul-3', 'door-ul-4'];
const SAFE = 'door-ul-5';
// 8,000 routine events queued behind the forced door: without the lane it would be stored after all of them; with it,
// within the first 2,000 (two and a half bulk windows of 4 x 200). 20,000 proved the same and took 80-93 s at load 10-12.
const PER_DOOR = 2000;

/**
 * The edge uplink's priority lane across real processes (`warden hub`, `warden edge`, door controllers over MQTT):
 * the hub is down while four doors queue 8,000 card events in the gateway's outbox; then a fifth door sends two
 * cards, is forced open, and sends one more card. When the hub is back, the forced door is stored ahead of the
 * backlog (after its own door's two earlier cards, before its later one), and every event is stored exactly once,
 * each door's in the order it sent them.
 */
describe('edge uplink priority lane (real hub, real edge agent, devices over MQTT)', () => {
  let campus: FaultCampus | undefined;
  afterAll(() => campus?.close());

  it('a forced door behind an 8,000-event backlog is stored first; everything exactly once, per door in order', { timeout: 240_000 }, async () => {
    campus = await FaultCampus.create(GW, [...BULK, SAFE]);
    const hub = await campus.startHub();
    await campus.startEdge();
    await campus.connectDevices();

    await campus.stop(hub);
    await Promise.all(BULK.map((_, di) => Promise.all(Array.from({ length: PER_DOOR }, (_, i) => campus!.send(di, i)))));
    const safe = BULK.length;
    await campus.send(safe, 0);
    await campus.send(safe, 1);
    await campus.devices[safe]!.publishAsync(`acs/${SAFE}/event`, JSON.stringify({ event: 'FORCED_OPEN', door: 1 }), { qos: 1 });
    await campus.send(safe, 2);

    await campus.startHub();
    await eventually(() => campus!.count('door.forced') === 1, 120_000, 'the forced door stored');
    await campus.storedAll(BULK.length * PER_DOOR + 3, 180_000);
    campus.expectExactlyOnceInOrder([...BULK.map(() => PER_DOOR), 3]);

    // Where each landed in the hub's storage order.
    const db = new Database(join(campus.site.dir, 'hub', 'state.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT device, type, data FROM events WHERE type IN ('access.granted', 'door.forced') ORDER BY n").all() as Array<{ device: string; type: string; data: string }>;
      const forcedAt = rows.findIndex((r) => r.type === 'door.forced');
      const card = (n: number) => rows.findIndex((r) => r.device === SAFE && r.type === 'access.granted' && (JSON.parse(r.data) as { credential: string }).credential === String(n));
      // Ahead of the backlog: the lane goes before the bulk window's first batches are acknowledged.
      expect(forcedAt).toBeLessThan(2000);
      // Its own door's order kept: the two earlier cards before it, the later one after it.
      expect(card(0)).toBeLessThan(forcedAt);
      expect(card(1)).toBeLessThan(forcedAt);
      expect(card(2)).toBeGreaterThan(forcedAt);
    } finally {
      db.close();
    }
    // The gateway counted its priority batch sent and acknowledged (status counters reach the hub's metrics).
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${campus!.site.base}/api/metrics`, { headers: { authorization: `Bearer ${campus!.token}` } })).text();
      return /warden_hub_priority_batches_total [1-9]/.test(text) ? text : undefined;
    }, 30_000, 'priority batches counted at the hub');
    expect(metrics).toMatch(/warden_hub_priority_batches_total [1-9]/);
  });
});
