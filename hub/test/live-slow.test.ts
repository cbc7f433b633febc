import type { Socket as NetSocket } from 'node:net';
import { LIVE_MAX_HELD, LIVE_SLOW_QUEUED, gatewayTopic, type LiveMessages } from '@warden/contract';
import type { MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackWatcher, connectGateway, eventually, FakeGatewayBatches, login, metric, registered, testHub, type TestHub } from './helpers.ts';

// A per-event live client (the default feed) that stops reading during a flood: the hub must not hold its routine
// events without bound. Beyond LIVE_SLOW_QUEUED waiting it switches the connection to coalesced batches and says so
// (contract LiveFeedSwitch, message `feed`); safety events and alarms still come one by one; nothing is lost silently:
// every routine event reaches the client as an `event`, inside an `events` batch, or counted in a batch's `skipped`.

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

/** The TCP socket under a socket.io-client WebSocket connection (engine.io-client over the `ws` package). */
const tcpOf = (s: Socket) => (s.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;

const GW = 'gw-slow';
const PASSWORD = 'slow-client-gateway-password';
const DOORS = Array.from({ length: 10 }, (_, i) => ({ id: `door-s${i}`, kind: 'door' }));

describe('a per-event live client that stops reading', () => {
  let t: TestHub;
  let token: string;
  let gw: MqttClient;
  let acks: Awaited<ReturnType<typeof ackWatcher>>;
  const g = new FakeGatewayBatches(GW);
  /** A client that stops reading in the first test and never reads again (the second test's). */
  let stuck: Socket | undefined;

  beforeAll(async () => {
    t = await testHub(registered({ [GW]: { password: PASSWORD, devices: DOORS } }));
    token = await login(t.hub);
    gw = await connectGateway(t.hub.mqttUrl, GW, PASSWORD);
    acks = await ackWatcher(gw, GW);
  });
  afterAll(async () => {
    stuck?.close();
    await gw?.endAsync();
    await t?.close();
  });

  it('is switched to coalesced batches (told in a `feed` message) instead of queueing every event; a forced door still comes at once; every routine event is accounted for', async () => {
    const s = await connectLive(t.hub.httpUrl, { token });
    const fast = await connectLive(t.hub.httpUrl, { token });
    stuck = await connectLive(t.hub.httpUrl, { token });
    tcpOf(stuck).pause();
    let fastEvents = 0;
    fast.on('event', () => fastEvents++);
    const got: Array<{ name: string; msg: unknown }> = [];
    s.onAny((name: string, msg: unknown) => got.push({ name, msg }));
    const of = <K extends keyof LiveMessages>(name: K) => got.filter((m) => m.name === name).map((m) => m.msg as LiveMessages[K]);
    try {
      tcpOf(s).pause(); // the client stops reading: the kernel buffers fill, then the hub's
      const uplinks = 40;
      const perUplink = 1000;
      let last = 0;
      for (let u = 0; u < uplinks; u++) {
        const records = Array.from({ length: perUplink }, (_, i) => g.event(DOORS[i % DOORS.length]!.id, i % 2 ? 'door.opened' : 'door.closed', { door: 1 }));
        await gw.publishAsync(gatewayTopic(GW, 'up'), g.batch(records), { qos: 1 });
        if (u === uplinks / 2) await gw.publishAsync(gatewayTopic(GW, 'up'), g.batch([g.event('door-s3', 'door.forced', { door: 1 })]), { qos: 1 });
        last = g.seq;
      }
      await eventually(() => acks.acks.some((a) => a >= last), 'every uplink stored', 60_000);
      expect(got).toEqual([]); // nothing reached the paused client
      // Both paused clients (this one and the second test's) are switched.
      await eventually(async () => (await metric(t.hub, 'warden_hub_live_coalesced_total', { kind: 'switched_slow' })) === 2, 'connections switched', 20_000);

      tcpOf(s).resume();
      const routine = uplinks * perUplink;
      const accounted = () => {
        const single = of('event').filter((e) => e.type !== 'door.forced').length;
        const batched = of('events').reduce((n, b) => n + b.events.length + b.skipped, 0);
        return single + batched;
      };
      await eventually(() => fastEvents === routine + 1, 'fast client got every event', 30_000).catch((err: Error) => {
        throw new Error(`${err.message}: ${fastEvents}`);
      });
      await eventually(() => accounted() === routine, `all ${routine} routine events accounted for`, 30_000).catch((err: Error) => {
        throw new Error(`${err.message}: ${accounted()} (${of('event').length} single, ${of('events').length} batches, skipped ${of('events').reduce((n, b) => n + b.skipped, 0)}, feed ${JSON.stringify(of('feed'))})`);
      });

      const [sw] = of('feed');
      expect(sw).toEqual({ mode: 'coalesced', reason: 'slow_client', waiting: expect.any(Number) });
      expect(sw!.waiting).toBeGreaterThan(LIVE_SLOW_QUEUED);
      // Per-event up to the switch, batches after it.
      const at = got.findIndex((m) => m.name === 'feed');
      expect(got.slice(at + 1).some((m) => m.name === 'event' && (m.msg as LiveMessages['event']).type !== 'door.forced')).toBe(false);
      expect(of('events').length).toBeGreaterThan(0);
      expect(of('events').reduce((n, b) => n + b.skipped, 0)).toBeGreaterThan(0);
      // The forced door and its alarm came as their own messages.
      expect(of('event').filter((e) => e.type === 'door.forced')).toHaveLength(1);
      await eventually(() => of('alarm').some((a) => a.type === 'door.forced'), 'forced-door alarm');
    } finally {
      s.close();
      fast.close();
    }
  }, 90_000);

  it('a connection that holds LIVE_MAX_HELD unread packets of alarms and safety events is closed (counted), never grown without bound; the others get every one', async () => {
    expect(stuck?.connected).toBe(true);
    const fast = await connectLive(t.hub.httpUrl, { token });
    let forced = 0;
    fast.on('event', (e: LiveMessages['event']) => void (e.type === 'door.forced' && forced++));
    try {
      // Safety events are never coalesced nor dropped: each is a message of its own, as are the alarm updates.
      const n = Math.ceil(LIVE_MAX_HELD / 1000) + 1;
      for (let u = 0; u < n; u++) {
        await gw.publishAsync(gatewayTopic(GW, 'up'), g.batch(Array.from({ length: 1000 }, (_, i) => g.event(DOORS[i % DOORS.length]!.id, 'door.forced', { door: 1 }))), { qos: 1 });
      }
      await eventually(() => acks.acks.some((a) => a >= g.seq), 'every uplink stored', 60_000);
      await eventually(async () => (await metric(t.hub, 'warden_hub_live_shed_total', { reason: 'closed_slow' })) >= 1, 'stuck connection closed', 30_000);
      // Gone on the hub's side at once (not after a ping timeout): only the reading client is left.
      await eventually(async () => (await metric(t.hub, 'warden_hub_live_clients')) === 1, 'stuck connection gone', 10_000).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${await metric(t.hub, 'warden_hub_live_clients')} clients, ${await metric(t.hub, 'warden_hub_live_shed_total', { reason: 'closed_slow' })} closed`);
      });
      await eventually(() => forced === n * 1000, 'the reading client got every forced door', 30_000);
    } finally {
      fast.close();
    }
  }, 120_000);
});
