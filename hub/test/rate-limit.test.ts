import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { gatewayTopic } from '@warden/contract';
import { TokenBuckets } from '../src/api/rate-limit.ts';
import { ackWatcher, api, connectGateway, FakeGatewayBatches, inventory, login, metric, testHub, type TestHub } from './helpers.ts';

/** Request bounds and rate limits (hub/src/api/rate-limit.ts, bounds.ts) on a real hub with small limits. */
const DAY = 86_400_000;

function connectLive(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      s.close();
      reject(err);
    });
  });
}

let t: TestHub;
// Logged in once: logins count against the address's bucket (5 at once) like any request without a user.
let desk: string;
let admin: string;
beforeAll(async () => {
  t = await testHub({
    users: [{ username: 'desk', roles: ['security'], password: 'security-desk-password' }],
    limits: { requestsPerMinute: 60, requestBurst: 5, socketsPerUser: 2, gatewayMessagesPerSecond: 20, gatewayBurst: 5, maxRangeDays: 31 },
    retention: { minFreeBytes: 0, minFreePercent: 0 },
    // Registered as an operator does (the hub owns the registry; the inventory only reports).
    gateways: [{ id: 'gw-fast', name: 'Fast', password: 'fast-gateway-password' }],
    devices: { registry: [{ id: 'door-fast', gateway: 'gw-fast', kind: 'door' }] },
  });
  desk = await login(t.hub, 'desk', 'security-desk-password');
  admin = await login(t.hub);
}, 30_000);
afterAll(async () => {
  await t?.close();
});

describe('token buckets', () => {
  it('grants the burst, then one per refill interval; borrow answers the wait', () => {
    let now = 1_000_000;
    const b = new TokenBuckets(2, 3, () => now);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0]);
    expect(b.take('a')).toBe(500);
    expect(b.take('b')).toBe(0); // keys are independent
    now += 500;
    expect(b.take('a')).toBe(0);
    expect(b.borrow('a')).toBe(500);
    expect(b.borrow('a')).toBe(1000);
  });
});

describe('request bounds and rate limits', () => {
  it('refuses a date range beyond limits.maxRangeDays with a 400 naming the limit (events, telemetry, energy)', async () => {
    const token = desk;
    const to = Date.UTC(2030, 0, 1);
    const events = await api<{ error: { code: string; message: string } }>(t.hub, token, `/api/events?from=${to - 40 * DAY}&to=${to}`);
    expect(events.status).toBe(400);
    expect(events.body.error.message).toMatch(/events query is at most 31 days \(asked 40\)/);
    expect((await api(t.hub, token, `/api/events?from=${to - 30 * DAY}&to=${to}`)).status).toBe(200);
    const tel = await api<{ error: { message: string } }>(t.hub, token, `/api/telemetry?device=m&metric=x&from=${to - 40 * DAY}&to=${to}&step=1d`);
    expect(tel.status).toBe(400);
    expect(tel.body.error.message).toMatch(/telemetry query is at most 31 days/);
    const fine = await api<{ error: { message: string } }>(t.hub, token, `/api/telemetry?device=m&metric=x&from=${to - 30 * DAY}&to=${to}&step=1m`);
    expect(fine.status).toBe(400);
    expect(fine.body.error.message).toMatch(/at most 10000 buckets \(asked 43200\)/);
    const energy = await api<{ error: { message: string } }>(t.hub, admin, `/api/energy/cost?node=campus&from=${to - 400 * DAY}&to=${to}`);
    expect(energy.status).toBe(400);
    expect(energy.body.error.message).toMatch(/energy query is at most 31 days/);
  });

  it('answers 429 with Retry-After past the per-user rate, counts it, and leaves other users alone', async () => {
    // A fresh bucket: wait for the burst to refill after the previous test's requests (5 tokens at 1/s).
    await new Promise((r) => setTimeout(r, 5500));
    const token = desk;
    const before = await metric(t.hub, 'warden_hub_rate_limited_total', { kind: 'rest' });
    const statuses: number[] = [];
    let limited: { status: number; body: unknown; headers: Headers } | undefined;
    for (let i = 0; i < 8; i++) {
      const r = await api(t.hub, token, '/api/devices');
      statuses.push(r.status);
      if (r.status === 429) limited ??= r;
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(4);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    expect(limited!.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(limited!.body).toMatchObject({ error: { code: 'rate_limited', message: expect.stringMatching(/at most 60 per minute .* per user; try again in \d+ s/) } });
    expect(await metric(t.hub, 'warden_hub_rate_limited_total', { kind: 'rest' })).toBeGreaterThan(before);
    // The admin has a bucket of their own.
    expect((await api(t.hub, admin, '/api/devices')).status).toBe(200);
  }, 20_000);

  it('refuses a user\'s live connection beyond limits.socketsPerUser with a clear error; a slot frees on close', async () => {
    const token = admin;
    const a = await connectLive(t.hub.httpUrl, token);
    const b = await connectLive(t.hub.httpUrl, token);
    try {
      await expect(connectLive(t.hub.httpUrl, token)).rejects.toThrow(/too_many_connections: at most 2 live connections per user/);
      expect(await metric(t.hub, 'warden_hub_rate_limited_total', { kind: 'socket' })).toBe(1);
      a.close();
      await new Promise((r) => setTimeout(r, 300));
      const c = await connectLive(t.hub.httpUrl, token);
      c.close();
    } finally {
      a.close();
      b.close();
    }
  });

  it('slows a gateway publishing beyond its rate without dropping it or anything it sent', async () => {
    const gw = await connectGateway(t.hub.mqttUrl, 'gw-fast', 'fast-gateway-password');
    let closed = 0;
    gw.on('close', () => closed++);
    try {
      await gw.publishAsync(gatewayTopic('gw-fast', 'inventory'), inventory('gw-fast', [{ id: 'door-fast', kind: 'door' }]), { qos: 1, retain: true });
      const acks = await ackWatcher(gw, 'gw-fast');
      const g = new FakeGatewayBatches('gw-fast');
      const started = Date.now();
      // 45 single-event batches at once: 5 pass on the burst, the other 40 at 20/s.
      await Promise.all(Array.from({ length: 45 }, () => gw.publishAsync(gatewayTopic('gw-fast', 'up'), g.batch([g.event('door-fast', 'door.closed')]), { qos: 1 })));
      await acks.until(g.seq);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(1500);
      expect(closed).toBe(0);
      expect(await metric(t.hub, 'warden_hub_rate_limited_total', { kind: 'mqtt' })).toBeGreaterThanOrEqual(30);
      const events = await api<{ events: unknown[] }>(t.hub, admin, '/api/events?device=door-fast&limit=100');
      expect(events.body.events).toHaveLength(45);
      console.log(`gateway over its rate: 45 publishes, ${took} ms until all acked at 20/s after a burst of 5, connection kept`);
    } finally {
      await gw.endAsync();
    }
  }, 30_000);
});
