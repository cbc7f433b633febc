import { LIVE_BATCH_MAX, gatewayTopic, type LiveMessages } from '@warden/contract';
import type { MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackWatcher, connectGateway, eventually, FakeGatewayBatches, login, metric, registered, testHub, type TestHub } from './helpers.ts';

// The coalesced live feed (contract LiveAuth feed: 'coalesced', what the console uses) against a real hub on
// 127.0.0.1 with real socket.io clients, beside a per-event client (the default) that must see no change.

function connectLive(url: string, auth: Record<string, unknown>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = io(url, { auth, transports: ['websocket'], reconnection: false });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      s.close();
      reject(err);
    });
  });
}

interface Received {
  order: Array<{ name: string; msg: unknown }>;
  of<K extends keyof LiveMessages>(name: K): LiveMessages[K][];
}

function record(s: Socket): Received {
  const order: Received['order'] = [];
  s.onAny((name: string, msg: unknown) => order.push({ name, msg }));
  return { order, of: (name) => order.filter((m) => m.name === name).map((m) => m.msg as never) };
}

const GW = 'gw-coal';
const PASSWORD = 'coalesced-gateway-password';
const DOORS = Array.from({ length: 20 }, (_, i) => ({ id: `door-c${i}`, kind: 'door' }));

describe('coalesced live feed', () => {
  let t: TestHub;
  let token: string;
  let gw: MqttClient;
  let acks: Awaited<ReturnType<typeof ackWatcher>>;
  const g = new FakeGatewayBatches(GW);

  beforeAll(async () => {
    t = await testHub(registered({ [GW]: { password: PASSWORD, devices: DOORS } }));
    token = await login(t.hub);
    gw = await connectGateway(t.hub.mqttUrl, GW, PASSWORD);
    acks = await ackWatcher(gw, GW);
  });
  afterAll(async () => {
    await gw?.endAsync();
    await t.close();
  });

  const send = async (records: unknown[]) => {
    await gw.publishAsync(gatewayTopic(GW, 'up'), g.batch(records), { qos: 1 });
  };

  it('refuses an unknown feed mode with a clear error', async () => {
    await expect(connectLive(t.hub.httpUrl, { token, feed: 'firehose' })).rejects.toThrow(/bad_feed/);
    expect(await metric(t.hub, 'warden_hub_live_refused_total', { reason: 'bad_feed' })).toBe(1);
  });

  it('a routine flood comes as bounded batches with skipped counts; a forced door and its new alarm come at once; per-event clients unchanged', async () => {
    const coalesced = await connectLive(t.hub.httpUrl, { token, feed: 'coalesced' });
    const perEvent = await connectLive(t.hub.httpUrl, { token });
    const c = record(coalesced);
    const p = record(perEvent);
    try {
      // One uplink of 1,000 routine events, stored in a few turns: a few batch windows at most.
      const flood = Array.from({ length: 1000 }, (_, i) => g.event(DOORS[i % 10]!.id, i % 2 ? 'door.opened' : 'door.closed', { door: 1 }));
      const forced = g.event('door-c15', 'door.forced', { door: 1 });
      const more = Array.from({ length: 300 }, (_, i) => g.event(DOORS[i % 10]!.id, 'door.closed', { door: 1 }));
      await send(flood);
      await send([forced]);
      await send(more);
      await acks.until(more.at(-1)!.seq);

      // The per-event client: every event as its own message, as before.
      await eventually(() => p.of('event').length >= 1301, 'per-event client got every event');
      // Routine events in order. Ingest stores a bulk batch in turns (maxRecordsPerTurn) with priority work between,
      // so the forced door may be stored, and sent, amid the flood it was published after.
      expect(p.of('event').filter((e) => e.id !== forced.id).map((e) => e.id)).toEqual([...flood, ...more].map((e) => e.id));
      expect(p.of('event').filter((e) => e.id === forced.id)).toHaveLength(1);
      expect(p.of('events')).toEqual([]);

      // The coalesced client: the forced door as an `event` message, routine events only in batches, each batch at
      // most LIVE_BATCH_MAX events, every routine event either in a batch or counted as skipped.
      await eventually(() => c.of('events').reduce((n, b) => n + b.events.length + b.skipped, 0) >= 1300, 'coalesced batches cover the flood');
      const batches = c.of('events');
      expect(c.of('event').map((e) => e.id)).toEqual([forced.id]);
      for (const b of batches) expect(b.events.length).toBeLessThanOrEqual(LIVE_BATCH_MAX);
      expect(batches.reduce((n, b) => n + b.events.length + b.skipped, 0)).toBe(1300);
      // Not a message per event: a few batches, the events beyond each batch's bound counted in `skipped`.
      expect(batches.length).toBeLessThan(1300 / 10);
      const skipped = batches.reduce((n, b) => n + b.skipped, 0);
      for (const b of batches) if (b.skipped) expect(b.events).toHaveLength(LIVE_BATCH_MAX);
      // What a batch carries is the newest of its window, oldest first, in the order stored.
      const ids = batches.flatMap((b) => b.events.map((e) => e.id));
      const sent = [...flood, ...more].map((e) => e.id);
      expect(ids).toEqual(sent.filter((id) => ids.includes(id)));
      expect(ids.at(-1)).toBe(more.at(-1)!.id);

      // The new alarm reached the coalesced client as a message of its own, before any batch stored after it.
      const alarmAt = c.order.findIndex((m) => m.name === 'alarm' && (m.msg as LiveMessages['alarm']).device === 'door-c15');
      expect(alarmAt).toBeGreaterThanOrEqual(0);
      expect((c.order[alarmAt]!.msg as LiveMessages['alarm']).count).toBe(1);
      const lastBatchAt = c.order.findLastIndex((m) => m.name === 'events');
      expect(alarmAt).toBeLessThan(lastBatchAt);
      const forcedAt = c.order.findIndex((m) => m.name === 'event');
      expect(forcedAt).toBeLessThan(lastBatchAt);

      expect(await metric(t.hub, 'warden_hub_live_coalesced_total', { kind: 'skipped_event' })).toBeGreaterThanOrEqual(skipped);
      expect(await metric(t.hub, 'warden_hub_live_coalesced_total', { kind: 'batch' })).toBe(batches.length);
    } finally {
      coalesced.close();
      perEvent.close();
    }
  });

  it('merges repeated updates of one alarm; the per-event client gets each one', async () => {
    const coalesced = await connectLive(t.hub.httpUrl, { token, feed: 'coalesced' });
    const perEvent = await connectLive(t.hub.httpUrl, { token });
    const c = record(coalesced);
    const p = record(perEvent);
    try {
      // The same door forced 30 times: one alarm whose count goes 1..30.
      for (let i = 0; i < 30; i++) await send([g.event('door-c19', 'door.forced', { door: 1 })]);
      const last = (r: Received) => r.of('alarm').filter((a) => a.device === 'door-c19').at(-1);
      await eventually(() => last(p)?.count === 30, 'per-event client saw count 30');
      await eventually(() => last(c)?.count === 30, 'coalesced client ends on the latest state');
      const seenP = p.of('alarm').filter((a) => a.device === 'door-c19');
      const seenC = c.of('alarm').filter((a) => a.device === 'door-c19');
      expect(seenP.map((a) => a.count)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(seenC[0]!.count).toBe(1);
      // Never out of order, and fewer messages than updates (30 updates within a few windows).
      expect(seenC.map((a) => a.count)).toEqual([...seenC.map((a) => a.count)].sort((a, b) => a - b));
      expect(seenC.length).toBeLessThan(30);
      expect(await metric(t.hub, 'warden_hub_live_coalesced_total', { kind: 'merged_alarm' })).toBeGreaterThan(0);
      // Each forced door is a safety event: every one reached the coalesced client at once, none batched.
      expect(c.of('event').filter((e) => e.device === 'door-c19')).toHaveLength(30);
    } finally {
      coalesced.close();
      perEvent.close();
    }
  });
});
