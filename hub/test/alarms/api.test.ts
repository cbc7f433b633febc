import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayTopic, type Command } from '@warden/contract';
import type { MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../src/alarms/types.ts';
import type { LiveMessages } from '../../src/live/bus.ts';
import { api, connectGateway, eventually, FakeGatewayBatches, login, status, registered, testHub, type TestHub } from '../helpers.ts';

type Detail = Alarm & { timeline: Array<{ kind: string; actor?: string; note?: string; detail?: Record<string, unknown> }>; cameras: string[] };

const DEVICES = {
  'gw-a': [
    { id: 'door-1', kind: 'door', building: 'lib', zone: 'lib-1f', name: 'Library east door' },
    { id: 'ts-1', kind: 'turnstile', building: 'lib' },
    { id: 'smoke-1', kind: 'fire_sensor', building: 'lib', zone: 'lib-1f' },
    { id: 'cam-1', kind: 'camera', building: 'lib', zone: 'lib-1f' },
    { id: 'cam-2', kind: 'camera', building: 'lib', zone: 'lib-2f' },
  ],
  'gw-c': [],
  'gw-b': [
    { id: 'door-3', kind: 'door', building: 'lib', zone: 'lib-2f' },
    { id: 'door-4', kind: 'door', building: 'lib', zone: 'lib-2f' },
    { id: 'door-9', kind: 'door', building: 'dorm' },
    { id: 'ts-9', kind: 'turnstile', building: 'dorm' },
  ],
} as const;

/** A gateway that records the commands the hub sends it and can answer them with command.result events. */
async function gateway(t: TestHub, gw: keyof typeof DEVICES) {
  await t.hub.provisionGateway(gw, gw, `${gw}-password-123`);
  const client: MqttClient = await connectGateway(t.hub.mqttUrl, gw, `${gw}-password-123`);
  const commands: Array<{ topic: string; cmd: Command }> = [];
  client.on('message', (topic, payload) => commands.push({ topic, cmd: JSON.parse(payload.toString()) as Command }));
  await client.subscribeAsync(gatewayTopic(gw, 'cmd'), { qos: 1 });
  await client.publishAsync(gatewayTopic(gw, 'status'), status(gw, 'online'), { qos: 1, retain: true });
  await client.publishAsync(
    gatewayTopic(gw, 'inventory'),
    JSON.stringify({ v: 1, gw, ts: Date.now(), devices: DEVICES[gw].map((d) => ({ driver: 'test-driver', ...d })) }),
    { qos: 1, retain: true },
  );
  const batches = new FakeGatewayBatches(gw);
  return {
    client,
    commands,
    send: (device: string, type: string, data: Record<string, unknown> = {}) =>
      client.publishAsync(gatewayTopic(gw, 'up'), batches.batch([batches.event(device, type, data)]), { qos: 1 }),
  };
}

function connectLive(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

describe('alarms through the running hub: REST, socket.io, linkage over MQTT', () => {
  let t: TestHub;
  let planDir: string;
  let admin: string;
  let desk: string;
  let viewer: string;
  let live: Socket;
  let a: Awaited<ReturnType<typeof gateway>>;
  let b: Awaited<ReturnType<typeof gateway>>;
  const alarms: Alarm[] = [];
  const linkage: Array<LiveMessages['linkage']> = [];

  beforeAll(async () => {
    planDir = await mkdtemp(join(tmpdir(), 'warden-site-'));
    await writeFile(join(planDir, 'plan.svg'), '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 600"><rect width="800" height="600"/></svg>');
    t = await testHub({
      users: [
        { username: 'desk', displayName: 'Desk Officer', roles: ['security'], password: 'desk-password' },
        // Reads are the security desk's; the dorm manager (no dorms assigned) may not acknowledge.
        { username: 'viewer', roles: ['dorm'], password: 'viewer-password' },
      ],
      alarms: {
        offlineDebounceSeconds: 0,
        evacuationRoutes: { lib: ['door-1', 'door-3'] },
        linkage: [
          { type: 'fire.alarm', holdOpen: 'evacuation', turnstiles: 'free', cameras: true, notify: ['security'] },
          { type: 'door.*', cameras: true },
        ],
      },
      site: { plan: join(planDir, 'plan.svg'), width: 800, height: 600, markers: [{ device: 'door-1', x: 120, y: 80 }, { device: 'gone', x: 1, y: 1 }] },
      // The hub owns the registry (issue 9): the gateways' inventories only report these devices.
      ...registered(Object.fromEntries(Object.entries(DEVICES).map(([gw, devices]) => [gw, { password: `${gw}-password-123`, devices }]))),
    });
    a = await gateway(t, 'gw-a');
    b = await gateway(t, 'gw-b');
    admin = await login(t.hub);
    desk = await login(t.hub, 'desk', 'desk-password');
    viewer = await login(t.hub, 'viewer', 'viewer-password');
    await eventually(async () => (await api<{ devices: unknown[] }>(t.hub, admin, '/api/devices')).body.devices.length === 9, 'inventories stored');
    // The security desk watches the live feed (a dorm manager gets only their dorms' messages: trust.test.ts).
    live = await connectLive(t.hub.httpUrl, desk);
    live.on('alarm', (m: Alarm) => alarms.push(m));
    live.on('linkage', (m: LiveMessages['linkage']) => linkage.push(m));
  });
  afterAll(async () => {
    live?.close();
    await a?.client.endAsync();
    await b?.client.endAsync();
    await t?.close();
    await rm(planDir, { recursive: true, force: true });
  });

  it('a smoke alarm: alarm on socket.io and REST, evacuation doors and turnstiles released on the right gateways, confirmations in the timeline', async () => {
    await a.send('smoke-1', 'fire.alarm', { smoke: 0.3 });
    const raised = await eventually(() => alarms.find((m) => m.type === 'fire.alarm'), 'alarm on socket.io');
    expect(raised).toMatchObject({ state: 'raised', priority: 'critical', latching: true, building: 'lib', device: 'smoke-1', gateway: 'gw-a' });

    await eventually(() => a.commands.length === 2 && b.commands.length === 1, 'linkage commands delivered');
    expect(a.commands.map((c) => [c.topic, c.cmd.device, c.cmd.action, c.cmd.params]).sort()).toEqual([
      ['warden/v1/gw/gw-a/cmd', 'door-1', 'door.hold_open', {}],
      ['warden/v1/gw/gw-a/cmd', 'ts-1', 'turnstile.set_mode', { mode: 'free' }],
    ]);
    // door-3 is on the evacuation route behind gw-b; door-4 (same building, not on a route) and the dorm are left alone.
    expect(b.commands.map((c) => [c.topic, c.cmd.device, c.cmd.action])).toEqual([['warden/v1/gw/gw-b/cmd', 'door-3', 'door.hold_open']]);

    await eventually(() => linkage.find((m) => m.action === 'cameras.show'), 'cameras popped');
    expect(linkage.find((m) => m.action === 'cameras.show')).toMatchObject({ alarmId: raised.id, cameras: ['cam-1'] });
    expect(linkage.find((m) => m.action === 'door.hold_open')).toMatchObject({ alarmId: raised.id, devices: ['door-1', 'door-3'] });
    expect(linkage.find((m) => m.action === 'notify')).toMatchObject({ roles: ['security'] });

    // The devices confirm; one refuses.
    for (const c of a.commands) await a.send(c.cmd.device, 'command.result', { command: c.cmd.id, action: c.cmd.action, ok: true });
    await b.send('door-3', 'command.result', { command: b.commands[0]!.cmd.id, action: 'door.hold_open', ok: false, error: 'jammed' });
    await eventually(() => linkage.filter((m) => m.ok !== undefined).length === 3, 'confirmations pushed');
    expect(linkage.find((m) => m.ok === false)).toMatchObject({ alarmId: raised.id, devices: ['door-3'], error: 'jammed', action: 'door.hold_open' });

    const detail = (await api<Detail>(t.hub, desk, `/api/alarms/${raised.id}`)).body;
    expect(detail.cameras).toEqual(['cam-1']);
    const results = detail.timeline.filter((e) => e.kind === 'linkage.result').map((e) => [e.detail!.device, e.detail!.ok]);
    expect(results.sort()).toEqual([
      ['door-1', true],
      ['door-3', false],
      ['ts-1', true],
    ]);
    expect(detail.timeline.filter((e) => e.kind === 'linkage.command')).toHaveLength(3);

    const audit = (await api<{ entries: Array<{ actor: string; action: string; target: string }> }>(t.hub, admin, '/api/audit?limit=100')).body.entries;
    const linked = audit.filter((e) => e.actor === 'system:linkage').map((e) => `${e.action} ${e.target}`);
    expect(linked.sort()).toEqual(['linkage.command door-1', 'linkage.command door-3', 'linkage.command ts-1']);
  });

  it('fire.cleared does not resolve the latched alarm; an operator acknowledges and resolves it with notes', async () => {
    const fire = alarms.find((m) => m.type === 'fire.alarm')!;
    await a.send('smoke-1', 'fire.cleared');
    await eventually(() => alarms.find((m) => m.id === fire.id && m.conditionCleared), 'condition cleared');
    expect((await api<Alarm>(t.hub, desk, `/api/alarms/${fire.id}`)).body).toMatchObject({ state: 'raised', conditionCleared: true });

    expect((await api(t.hub, viewer, `/api/alarms/${fire.id}/acknowledge`, { method: 'POST', body: {} })).status).toBe(403);
    const ack = await api<Alarm>(t.hub, desk, `/api/alarms/${fire.id}/acknowledge`, { method: 'POST', body: { note: 'fire team dispatched' } });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'desk', ackNote: 'fire team dispatched' });
    await eventually(() => alarms.find((m) => m.id === fire.id && m.state === 'acknowledged'), 'ack pushed');
    const again = await api<{ error: { code: string } }>(t.hub, desk, `/api/alarms/${fire.id}/acknowledge`, { method: 'POST', body: {} });
    expect([again.status, again.body.error.code]).toEqual([409, 'alarm_not_raised']);

    expect((await api(t.hub, desk, `/api/alarms/${fire.id}/resolve`, { method: 'POST', body: {} })).status).toBe(400);
    const res = await api<Alarm>(t.hub, desk, `/api/alarms/${fire.id}/resolve`, { method: 'POST', body: { note: 'false alarm, dust' } });
    expect(res.body).toMatchObject({ state: 'resolved', resolvedBy: 'desk', resolveNote: 'false alarm, dust' });
    const twice = await api<{ error: { code: string } }>(t.hub, desk, `/api/alarms/${fire.id}/resolve`, { method: 'POST', body: { note: 'x' } });
    expect([twice.status, twice.body.error.code]).toEqual([409, 'alarm_resolved']);

    const open = (await api<{ alarms: Alarm[] }>(t.hub, desk, '/api/alarms?state=open')).body.alarms;
    expect(open.map((x) => x.id)).not.toContain(fire.id);
    const history = (await api<{ alarms: Alarm[] }>(t.hub, desk, '/api/alarms?state=resolved&q=dust&type=fire.*&priority=critical,high')).body.alarms;
    expect(history.map((x) => [x.id, x.resolvedBy])).toEqual([[fire.id, 'desk']]);
    const audit = (await api<{ entries: Array<{ actor: string; action: string; target: string }> }>(t.hub, admin, '/api/audit?limit=200')).body.entries;
    expect(audit.filter((e) => e.target === fire.id).map((e) => `${e.actor} ${e.action}`)).toEqual(['desk alarm.resolve', 'desk alarm.acknowledge']);
  });

  it('bulk acknowledge, paging and filters', async () => {
    await b.send('door-9', 'door.forced');
    await b.send('door-4', 'door.forced');
    await a.send('door-1', 'door.forced');
    await a.send('door-1', 'door.forced');
    await eventually(() => alarms.find((m) => m.device === 'door-1' && m.type === 'door.forced' && m.count === 2), 'flood-controlled alarm');
    const open = (await api<{ alarms: Alarm[] }>(t.hub, desk, '/api/alarms?state=raised&type=door.forced')).body.alarms;
    expect(open).toHaveLength(3);
    const page1 = (await api<{ alarms: Alarm[]; next: string }>(t.hub, desk, '/api/alarms?type=door.forced&limit=2')).body;
    const page2 = (await api<{ alarms: Alarm[]; next: string | null }>(t.hub, desk, `/api/alarms?type=door.forced&limit=2&before=${page1.next}`)).body;
    expect([...page1.alarms, ...page2.alarms].map((x) => x.id).sort()).toEqual(open.map((x) => x.id).sort());
    expect(page2.next).toBeNull();
    expect((await api<{ alarms: Alarm[] }>(t.hub, desk, '/api/alarms?building=dorm')).body.alarms.map((x) => x.device)).toEqual(['door-9']);

    const bulk = await api<{ acknowledged: string[]; skipped: unknown[] }>(t.hub, desk, '/api/alarms/acknowledge', {
      method: 'POST',
      body: { ids: [...open.map((x) => x.id), 'no-such-alarm'], note: 'patrol sent' },
    });
    expect(bulk.status).toBe(200);
    expect(bulk.body.acknowledged.sort()).toEqual(open.map((x) => x.id).sort());
    expect(bulk.body.skipped).toEqual([{ id: 'no-such-alarm', reason: 'not_found' }]);
    expect((await api(t.hub, desk, '/api/alarms?state=bogus')).status).toBe(400);
    expect((await api(t.hub, desk, '/api/alarms/nope')).status).toBe(404);
    expect((await api(t.hub, null, '/api/alarms')).status).toBe(401);
  });

  it('serves the site plan with markers joined to the registry', async () => {
    const site = (await api<{ plan: { svg: string; width: number }; markers: unknown[] }>(t.hub, desk, '/api/site')).body;
    expect(site.plan.svg).toContain('<svg');
    expect(site.plan.width).toBe(800);
    expect(site.markers).toEqual([
      { device: 'door-1', x: 120, y: 80, kind: 'door', name: 'Library east door', building: 'lib', zone: 'lib-1f', online: false },
      { device: 'gone', x: 1, y: 1, kind: null, name: null, building: null, zone: null, online: false },
    ]);
  });

  it('a gateway lost to the hub raises gateway.offline', async () => {
    const c = await gateway(t, 'gw-c');
    c.client.stream.destroy();
    const lost = await eventually(() => alarms.find((m) => m.type === 'gateway.offline' && m.device === 'gw-c'), 'gateway alarm');
    expect(lost).toMatchObject({ gateway: 'gw-c', priority: 'high', state: 'raised' });
    await c.client.endAsync(true);
  });

  it('remote door open by an operator is audited', async () => {
    const r = await api<{ commandId: string }>(t.hub, desk, '/api/devices/door-9/commands', { method: 'POST', body: { action: 'door.unlock', params: { seconds: 5 } } });
    expect(r.status).toBe(202);
    const audit = (await api<{ entries: Array<{ actor: string; action: string; target: string; detail: { commandId?: string } }> }>(t.hub, admin, '/api/audit?limit=5')).body.entries;
    expect(audit[0]).toMatchObject({ actor: 'desk', action: 'command.send', target: 'door-9', detail: { commandId: r.body.commandId } });
  });
});
