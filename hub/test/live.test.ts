import { gatewayTopic } from '@warden/contract';
import type { MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveMessages } from '../src/index.ts';
import { api, connectGateway, eventually, FakeGatewayBatches, inventory, login, status, registered, testHub, type TestHub } from './helpers.ts';

function connectLive(url: string, token: string | undefined): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = io(url, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      s.close();
      reject(err);
    });
  });
}

function collect<K extends keyof LiveMessages>(s: Socket, name: K): LiveMessages[K][] {
  const out: LiveMessages[K][] = [];
  s.on(name as string, (m: LiveMessages[K]) => out.push(m));
  return out;
}

describe('live feed and availability', () => {
  let t: TestHub;
  let token: string;
  let live: Socket;
  const g = new FakeGatewayBatches('gw-live');

  beforeAll(async () => {
    t = await testHub(registered({ 'gw-live': { password: 'live-gateway-password', devices: [{ id: 'door-l', kind: 'door' }] } }));
    await t.hub.provisionGateway('gw-live', 'Live', 'live-gateway-password');
    token = await login(t.hub);
    live = await connectLive(t.hub.httpUrl, token);
  });
  afterAll(async () => {
    live?.close();
    await t.close();
  });

  it('refuses a missing or bad token with connect_error "unauthorized"', async () => {
    await expect(connectLive(t.hub.httpUrl, undefined)).rejects.toThrow('unauthorized');
    await expect(connectLive(t.hub.httpUrl, 'forged.token.here')).rejects.toThrow('unauthorized');
  });

  it('pushes gateway birth, stored events, device availability, and the gateway\'s death by last will', async () => {
    const gateways = collect(live, 'gateway');
    const events = collect(live, 'event');
    const devices = collect(live, 'device');

    const gw: MqttClient = await connectGateway(t.hub.mqttUrl, 'gw-live', 'live-gateway-password', {
      will: { topic: gatewayTopic('gw-live', 'status'), payload: Buffer.from(status('gw-live', 'offline')), qos: 1, retain: true },
    });
    await gw.publishAsync(gatewayTopic('gw-live', 'status'), status('gw-live', 'online', { backlog: 12, agentVersion: '0.1.0' }), { qos: 1, retain: true });
    await eventually(() => gateways.find((m) => m.backlog === 12), 'birth pushed');
    expect(gateways.at(-1)).toMatchObject({ id: 'gw-live', online: true, backlog: 12 });

    await gw.publishAsync(gatewayTopic('gw-live', 'inventory'), inventory('gw-live', [{ id: 'door-l', kind: 'door' }]), { qos: 1, retain: true });
    const opened = g.event('door-l', 'door.opened', { door: 1 });
    await gw.publishAsync(gatewayTopic('gw-live', 'up'), g.batch([g.event('door-l', 'device.online'), opened]), { qos: 1 });
    await eventually(() => events.find((e) => e.id === opened.id), 'event pushed');
    expect(events.find((e) => e.id === opened.id)).toMatchObject({ gateway: 'gw-live', device: 'door-l', type: 'door.opened', data: { door: 1 }, seq: opened.seq });
    await eventually(() => devices.find((d) => d.id === 'door-l' && d.online), 'device online pushed');
    expect((await api<{ devices: Array<{ online: boolean }> }>(t.hub, token, '/api/devices?gateway=gw-live')).body.devices[0]!.online).toBe(true);

    await gw.publishAsync(gatewayTopic('gw-live', 'up'), g.batch([g.event('door-l', 'device.offline', { reason: 'no heartbeat' })]), { qos: 1 });
    await eventually(() => devices.find((d) => d.id === 'door-l' && !d.online), 'device offline pushed');

    // An abrupt loss (no DISCONNECT): the broker publishes the will.
    gw.stream.destroy();
    await eventually(() => gateways.find((m) => !m.online), 'death pushed');
    const listed = (await api<{ gateways: Array<{ id: string; online: boolean; backlog: number | null }> }>(t.hub, token, '/api/gateways')).body.gateways;
    expect(listed.find((x) => x.id === 'gw-live')?.online).toBe(false);
    gw.end(true);
  });

  it('marks a gateway offline when it goes away without a will', async () => {
    const gateways = collect(live, 'gateway');
    const gw = await connectGateway(t.hub.mqttUrl, 'gw-live', 'live-gateway-password');
    await eventually(() => gateways.find((m) => m.online), 'online on connect');
    await gw.endAsync();
    await eventually(() => gateways.find((m) => !m.online), 'offline on disconnect');
  });
});
