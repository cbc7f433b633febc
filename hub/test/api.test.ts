import type { MqttClient } from 'mqtt';
import { gatewayTopic, validateCommand } from '@warden/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackWatcher, api, connectGateway, eventually, FakeGatewayBatches, inventory, login, metric, registered, testHub, type TestHub } from './helpers.ts';

interface Ev {
  id: string;
  seq: number;
  gateway: string;
  device: string;
  type: string;
  ts: number;
  receivedAt: number;
  data: Record<string, unknown>;
}

/** The hub's registry holds these (issue 9: the gateway's inventory only reports them). */
const API_DEVICES = [
  { id: 'door-a', kind: 'door', building: 'b1', name: 'Door A' },
  { id: 'door-b', kind: 'door', building: 'b2' },
  { id: 'relay-1', kind: 'actuator', building: 'b1' },
  { id: 'smoke-1', kind: 'fire_sensor', building: 'b1' },
  { id: 'meter-1', kind: 'meter' },
];

describe('REST API', () => {
  let t: TestHub;
  let gw: MqttClient;
  let admin: string;
  const tokens: Record<string, string> = {};
  const g = new FakeGatewayBatches('gw-api');
  const T0 = Date.UTC(2026, 2, 1);
  const stored: Ev[] = [];

  beforeAll(async () => {
    t = await testHub({
      users: [
        { username: 'sec', displayName: 'Security desk', roles: ['security'], password: 'security-password' },
        { username: 'dorm', roles: ['dorm'], password: 'dorm-password' },
        { username: 'fac', roles: ['facilities'], password: 'facilities-password' },
      ],
      auth: { loginAttemptsPerMinute: 3 },
      ...registered({ 'gw-api': { password: 'api-gateway-password', devices: API_DEVICES } }),
    });
    await t.hub.provisionGateway('gw-api', 'API gateway', 'api-gateway-password');
    gw = await connectGateway(t.hub.mqttUrl, 'gw-api', 'api-gateway-password');
    const acks = await ackWatcher(gw, 'gw-api');
    await gw.publishAsync(
      gatewayTopic('gw-api', 'inventory'),
      inventory('gw-api', API_DEVICES),
      { qos: 1, retain: true },
    );
    // 30 events a minute apart alternating doors, and one hour of meter readings every minute.
    const records: unknown[] = [];
    for (let i = 0; i < 30; i++) records.push(g.event(i % 2 ? 'door-b' : 'door-a', i % 3 ? 'door.opened' : 'access.denied', i % 3 ? { door: 1 } : { method: 'card', reason: 'expired' }, T0 + i * 60_000));
    for (let i = 0; i < 60; i++) records.push(g.telemetry('meter-1', { power_kw: i }, T0 + i * 60_000));
    await gw.publishAsync(gatewayTopic('gw-api', 'up'), g.batch(records), { qos: 1 });
    await acks.until(g.seq);
    admin = await login(t.hub);
    for (const [u, p] of [
      ['sec', 'security-password'],
      ['dorm', 'dorm-password'],
      ['fac', 'facilities-password'],
    ]) {
      tokens[u!] = await login(t.hub, u, p);
    }
    stored.push(...(await api<{ events: Ev[] }>(t.hub, admin, '/api/events?limit=1000')).body.events);
  });
  afterAll(async () => {
    await gw.endAsync();
    await t.close();
  });

  it('answers health without a token', async () => {
    const res = await api<Record<string, unknown>>(t.hub, null, '/api/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', version: '0.1.0', mqttClients: 1, gatewaysOnline: 1 });
  });

  it('logs in with the right password, refuses a wrong one and an unknown user the same way', async () => {
    const ok = await api<{ token: string; user: unknown }>(t.hub, null, '/api/auth/login', { method: 'POST', body: { username: 'sec', password: 'security-password' } });
    expect(ok.status).toBe(200);
    expect(ok.body.user).toEqual({ username: 'sec', displayName: 'Security desk', roles: ['security'], scope: {} });
    const me = await api(t.hub, ok.body.token, '/api/me');
    expect(me.body).toEqual({ username: 'sec', displayName: 'Security desk', roles: ['security'], scope: {} });
    for (const body of [
      { username: 'sec', password: 'wrong-password' },
      { username: 'nobody', password: 'wrong-password' },
    ]) {
      const bad = await api(t.hub, null, '/api/auth/login', { method: 'POST', body });
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual({ error: { code: 'bad_credentials', message: 'Wrong username or password' } });
    }
    expect(await metric(t.hub, 'warden_hub_login_failures_total', { reason: 'bad_credentials' })).toBe(2);
  });

  it('rate-limits failed logins per username and address with 429 and Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await api(t.hub, null, '/api/auth/login', { method: 'POST', body: { username: 'dorm', password: 'guess-' + i } })).status).toBe(401);
    }
    const limited = await api<{ error: { code: string } }>(t.hub, null, '/api/auth/login', { method: 'POST', body: { username: 'dorm', password: 'dorm-password' } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('too_many_attempts');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Other users are not affected.
    expect((await api(t.hub, null, '/api/auth/login', { method: 'POST', body: { username: 'fac', password: 'facilities-password' } })).status).toBe(200);
  });

  it('refuses missing, malformed and forged tokens with 401', async () => {
    for (const token of [null, 'not-a-jwt', admin.slice(0, -4) + 'AAAA']) {
      const res = await api<{ error: { code: string } }>(t.hub, token, '/api/gateways');
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('answers validation errors and unknown routes in the error envelope', async () => {
    const bad = await api<{ error: { code: string; message: string } }>(t.hub, admin, '/api/events?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.message).toMatch(/limit/);
    const nf = await api<{ error: { code: string } }>(t.hub, admin, '/api/nothing-here');
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('not_found');
    const badJson = await fetch(`${t.hub.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":' });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe('bad_request');
  });

  it('lists gateways and devices with filters', async () => {
    const gws = await api<{ gateways: Array<Record<string, unknown>> }>(t.hub, tokens.dorm!, '/api/gateways');
    expect(gws.body.gateways).toEqual([{ id: 'gw-api', name: 'API gateway', online: true, lastSeen: expect.any(Number), backlog: null, agentVersion: null }]);
    const all = await api<{ devices: Array<{ id: string }> }>(t.hub, tokens.dorm!, '/api/devices');
    expect(all.body.devices.map((d) => d.id)).toEqual(['door-a', 'door-b', 'meter-1', 'relay-1', 'smoke-1']);
    const b1doors = await api<{ devices: Array<{ id: string; name: string | null; building: string | null }> }>(t.hub, tokens.dorm!, '/api/devices?kind=door&building=b1');
    expect(b1doors.body.devices).toMatchObject([{ id: 'door-a', name: 'Door A', building: 'b1', gateway: 'gw-api', online: false }]);
    expect((await api<{ devices: unknown[] }>(t.hub, tokens.dorm!, '/api/devices?gateway=gw-none')).body.devices).toEqual([]);
  });

  it('provisions a gateway for admins only; the password works once over MQTT; a duplicate is 409; both audited', async () => {
    expect((await api(t.hub, tokens.sec!, '/api/gateways', { method: 'POST', body: { id: 'gw-new' } })).status).toBe(403);
    const created = await api<{ id: string; password: string }>(t.hub, admin, '/api/gateways', { method: 'POST', body: { id: 'gw-new', name: 'New' } });
    expect(created.status).toBe(201);
    expect(created.body.id).toBe('gw-new');
    const c = await connectGateway(t.hub.mqttUrl, 'gw-new', created.body.password);
    await c.endAsync();
    const dup = await api<{ error: { code: string } }>(t.hub, admin, '/api/gateways', { method: 'POST', body: { id: 'gw-new' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('gateway_exists');
    expect((await api(t.hub, admin, '/api/gateways', { method: 'POST', body: { id: 'Bad Id!' } })).status).toBe(400);
    const audit = await api<{ entries: Array<{ actor: string; action: string; target: string }> }>(t.hub, admin, '/api/audit?limit=50');
    expect(audit.body.entries).toContainEqual(expect.objectContaining({ actor: 'admin', action: 'gateway.create', target: 'gw-new' }));
  });

  it('pages events newest arrival first and filters them', async () => {
    expect(stored).toHaveLength(30);
    expect(stored[0]!.seq).toBe(30); // same arrival batch: later seq stored later
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { events: Ev[]; next: string | null } } = await api(t.hub, tokens.dorm!, `/api/events?limit=7${cursor ? `&before=${cursor}` : ''}`);
      seen.push(...res.body.events.map((e) => e.id));
      cursor = res.body.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(stored.map((e) => e.id));

    const doorB = (await api<{ events: Ev[] }>(t.hub, admin, '/api/events?device=door-b&limit=100')).body.events;
    expect(doorB).toHaveLength(15);
    expect(doorB.every((e) => e.device === 'door-b')).toBe(true);
    const denied = (await api<{ events: Ev[] }>(t.hub, admin, '/api/events?type=access.denied')).body.events;
    expect(denied).toHaveLength(10);
    expect(denied[0]!.data).toEqual({ method: 'card', reason: 'expired' });
    const doorFamily = (await api<{ events: Ev[] }>(t.hub, admin, '/api/events?type=door.*')).body.events;
    expect(doorFamily).toHaveLength(20);
    const window = (await api<{ events: Ev[] }>(t.hub, admin, `/api/events?from=${T0 + 10 * 60_000}&to=${T0 + 19 * 60_000}&gateway=gw-api`)).body.events;
    expect(window.map((e) => e.ts).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => T0 + (10 + i) * 60_000));
  });

  it('downsamples telemetry from a known series', async () => {
    const res = await api<{ device: string; metric: string; step: string; agg: string; points: number[][] }>(
      t.hub,
      tokens.fac!,
      `/api/telemetry?device=meter-1&metric=power_kw&from=${T0}&to=${T0 + 3_600_000}&step=15m&agg=avg`,
    );
    expect(res.body).toEqual({
      device: 'meter-1',
      metric: 'power_kw',
      step: '15m',
      agg: 'avg',
      points: [
        [T0, 7],
        [T0 + 900_000, 22],
        [T0 + 1_800_000, 37],
        [T0 + 2_700_000, 52],
      ],
    });
    const max = await api<{ points: number[][] }>(t.hub, tokens.fac!, `/api/telemetry?device=meter-1&metric=power_kw&from=${T0}&to=${T0 + 3_600_000}&step=1h&agg=max`);
    expect(max.body.points).toEqual([[T0, 59]]);
    const tooMany = await api<{ error: { code: string } }>(t.hub, admin, `/api/telemetry?device=meter-1&metric=power_kw&from=0&to=${T0}&step=60s`);
    expect(tooMany.status).toBe(400);
    expect((await api(t.hub, admin, '/api/telemetry?device=meter-1&metric=power_kw&agg=median')).status).toBe(400);
  });

  it('sends commands by role to the device gateway\'s cmd topic, audited, as valid contract commands', async () => {
    const received: unknown[] = [];
    gw.on('message', (topic, payload) => {
      if (topic === gatewayTopic('gw-api', 'cmd')) received.push(JSON.parse(payload.toString()));
    });
    await gw.subscribeAsync(gatewayTopic('gw-api', 'cmd'), { qos: 1 });

    const send = (token: string, device: string, action: string, params?: unknown) =>
      api<{ commandId?: string; error?: { code: string } }>(t.hub, token, `/api/devices/${device}/commands`, { method: 'POST', body: { action, params } });

    const ok = await send(tokens.sec!, 'door-a', 'door.unlock', { seconds: 5 });
    expect(ok.status).toBe(202);
    await eventually(() => received.length === 1, 'command delivered');
    const cmd = received[0] as Record<string, unknown>;
    expect(validateCommand(cmd).ok).toBe(true);
    expect(cmd).toMatchObject({ v: 1, id: ok.body.commandId, device: 'door-a', action: 'door.unlock', params: { seconds: 5 } });
    expect((cmd.expiresAt as number) - (cmd.ts as number)).toBe(30_000);

    expect((await send(tokens.fac!, 'relay-1', 'actuator.set', { on: true, level: 40 })).status).toBe(202);
    expect((await send(admin, 'relay-1', 'actuator.set', { on: false })).status).toBe(202);
    expect((await send(tokens.sec!, 'relay-1', 'actuator.set', { on: true })).body.error?.code).toBe('forbidden');
    expect((await send(tokens.fac!, 'door-a', 'door.lock')).body.error?.code).toBe('forbidden');
    expect((await send(tokens.dorm!, 'door-a', 'door.lock')).status).toBe(403);
    expect((await send(tokens.sec!, 'door-a', 'door.unlock', { seconds: 0 })).body.error?.code).toBe('validation_failed');
    expect((await send(tokens.sec!, 'door-a', 'door.explode')).body.error?.code).toBe('unknown_action');
    expect((await send(tokens.sec!, 'door-a', 'turnstile.set_mode', { mode: 'free' })).body.error?.code).toBe('action_not_supported');
    expect((await send(admin, 'smoke-1', 'door.lock')).body.error?.code).toBe('action_not_supported');
    const missing = await send(admin, 'door-zzz', 'door.lock');
    expect(missing.status).toBe(404);
    await eventually(() => received.length === 3, 'three commands delivered');

    const audit = (await api<{ entries: Array<{ actor: string; action: string; target: string; detail: Record<string, unknown> }> }>(t.hub, admin, '/api/audit?limit=100')).body.entries;
    const sent = audit.filter((e) => e.action === 'command.send');
    expect(sent.map((e) => [e.actor, e.target, e.detail.action])).toEqual([
      ['admin', 'relay-1', 'actuator.set'],
      ['fac', 'relay-1', 'actuator.set'],
      ['sec', 'door-a', 'door.unlock'],
    ]);
    expect(audit.some((e) => e.action === 'login.failure' && e.actor === 'sec')).toBe(true);
    expect(audit.some((e) => e.action === 'login.success' && e.actor === 'admin')).toBe(true);
    expect(await metric(t.hub, 'warden_hub_commands_total', { action: 'actuator.set' })).toBe(2);
  });

  it('refuses a command for a device whose gateway is not connected', async () => {
    const other = await connectGateway(t.hub.mqttUrl, 'gw-new', (await t.hub.provisionGateway('gw-new', undefined, 'gw-new-password')).password);
    await other.publishAsync(gatewayTopic('gw-new', 'inventory'), inventory('gw-new', [{ id: 'door-new', kind: 'door' }]), { qos: 1 });
    await eventually(async () => (await api<{ devices: unknown[] }>(t.hub, admin, '/api/devices?gateway=gw-new')).body.devices.length === 1, 'device proposed');
    // The gateway only proposes it; an admin adopts it (issue 9: the hub owns the registry).
    expect((await api(t.hub, admin, '/api/devices/door-new/adopt', { method: 'POST', body: { kind: 'door' } })).status).toBe(200);
    await other.endAsync();
    await eventually(async () => {
      const res = await api<{ error?: { code: string } }>(t.hub, admin, '/api/devices/door-new/commands', { method: 'POST', body: { action: 'door.lock' } });
      return res.status === 409 && res.body.error?.code === 'gateway_offline';
    }, 'gateway_offline');
  });

  it('keeps the audit log for admins only, with paging', async () => {
    expect((await api(t.hub, tokens.sec!, '/api/audit')).status).toBe(403);
    const first = (await api<{ entries: Array<{ id: number }> }>(t.hub, admin, '/api/audit?limit=2')).body.entries;
    expect(first).toHaveLength(2);
    const next = (await api<{ entries: Array<{ id: number }> }>(t.hub, admin, `/api/audit?limit=2&before=${first[1]!.id}`)).body.entries;
    expect(next[0]!.id).toBeLessThan(first[1]!.id);
  });

  it('publishes an OpenAPI 3 description: every route documented with a summary (the exact set: api-contract.test.ts)', async () => {
    const doc = (await api<{ openapi: string; paths: Record<string, Record<string, { summary?: string }>> }>(t.hub, null, '/api/openapi.json')).body;
    expect(doc.openapi).toMatch(/^3\./);
    const ops = Object.entries(doc.paths).flatMap(([p, byMethod]) => Object.entries(byMethod).map(([m, op]) => ({ route: `${m.toUpperCase()} ${p}`, op })));
    expect(ops.length).toBeGreaterThan(40);
    for (const { route, op } of ops) {
      expect(route).toMatch(/^(GET|POST|PUT|PATCH|DELETE) \/api\//);
      expect(op.summary, route).toBeTruthy();
    }
  });

  it('serves Prometheus metrics to the local host without a token', async () => {
    const res = await api<string>(t.hub, null, '/api/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(res.body).toContain('warden_hub_rejected_total{reason="oversized"} 0');
    expect(res.body).toContain('warden_hub_records_stored_total{kind="event"} 30');
  });
});
