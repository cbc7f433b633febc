import { gatewayTopic } from '@warden/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPublish, checkSubscribe } from '../src/broker/acl.ts';
import { connectGateway, eventually, metric, refusedConnect, status, testHub, type TestHub } from './helpers.ts';

describe('gateway ACL rules', () => {
  it('allows a gateway only its own up/status/inventory for publishing and ack/cmd/config for subscribing', () => {
    for (const ch of ['up', 'status', 'inventory'] as const) expect(checkPublish('gw-a', gatewayTopic('gw-a', ch)).ok).toBe(true);
    for (const ch of ['ack', 'cmd', 'config'] as const) {
      expect(checkPublish('gw-a', gatewayTopic('gw-a', ch))).toMatchObject({ ok: false, reason: 'acl_publish_denied' });
      expect(checkSubscribe('gw-a', gatewayTopic('gw-a', ch)).ok).toBe(true);
      expect(checkSubscribe('gw-a', gatewayTopic('gw-b', ch))).toMatchObject({ ok: false, reason: 'acl_subscribe_denied' });
    }
    expect(checkPublish('gw-a', gatewayTopic('gw-b', 'up'))).toMatchObject({ ok: false, reason: 'acl_publish_denied' });
    expect(checkPublish('gw-a', 'warden/v1/gw/gw-a/firmware')).toMatchObject({ ok: false, reason: 'unknown_topic' });
    expect(checkPublish('gw-a', '$SYS/x')).toMatchObject({ ok: false, reason: 'acl_publish_denied' });
    expect(checkSubscribe('gw-a', 'warden/v1/gw/gw-a/#')).toMatchObject({ ok: false, reason: 'acl_subscribe_denied' });
    expect(checkSubscribe('gw-a', 'warden/v1/gw/+/cmd')).toMatchObject({ ok: false, reason: 'acl_subscribe_denied' });
    expect(checkSubscribe('gw-a', gatewayTopic('gw-a', 'up'))).toMatchObject({ ok: false, reason: 'acl_subscribe_denied' });
  });
});

describe('broker over real TCP', () => {
  let t: TestHub;
  let pwA: string;
  let pwB: string;
  beforeAll(async () => {
    t = await testHub({ gateways: [{ id: 'gw-b', name: 'B', password: 'gateway-b-password' }] });
    pwA = (await t.hub.provisionGateway('gw-a', 'A')).password;
    pwB = 'gateway-b-password';
  });
  afterAll(() => t.close());

  it('accepts the right password and refuses a wrong one, an unknown gateway and missing credentials, counting each', async () => {
    const ok = await connectGateway(t.hub.mqttUrl, 'gw-a', pwA);
    expect(ok.connected).toBe(true);
    await ok.endAsync();

    const wrong = await refusedConnect(t.hub.mqttUrl, { clientId: 'warden-edge-gw-a', username: 'gw-a', password: 'not-the-password' });
    expect(wrong.code).toBe(5);
    const unknown = await refusedConnect(t.hub.mqttUrl, { clientId: 'warden-edge-gw-x', username: 'gw-x', password: 'whatever-password' });
    expect(unknown.code).toBe(5);
    const anonymous = await refusedConnect(t.hub.mqttUrl, { clientId: 'anon' });
    expect(anonymous.code).toBe(5);

    expect(await metric(t.hub, 'warden_hub_auth_failures_total', { reason: 'bad_password' })).toBe(1);
    expect(await metric(t.hub, 'warden_hub_auth_failures_total', { reason: 'unknown_gateway' })).toBe(1);
    expect(await metric(t.hub, 'warden_hub_auth_failures_total', { reason: 'missing_credentials' })).toBe(1);
  });

  it('does not let one gateway take over another gateway\'s client id', async () => {
    const b = await connectGateway(t.hub.mqttUrl, 'gw-b', pwB);
    const err = await refusedConnect(t.hub.mqttUrl, { clientId: 'warden-edge-gw-b', username: 'gw-a', password: pwA });
    expect(err.code).toBe(2);
    expect(b.connected).toBe(true);
    expect(await metric(t.hub, 'warden_hub_auth_failures_total', { reason: 'client_id_not_assigned' })).toBe(1);
    await b.endAsync();
  });

  it('refuses a gateway squatting on another gateway\'s client id before it connects (issue 9), and any id the hub did not assign', async () => {
    // gw-a connects first with gw-b's assigned id, to lock gw-b out: refused, and gw-b still gets in afterwards.
    const squat = await refusedConnect(t.hub.mqttUrl, { clientId: 'warden-edge-gw-b', username: 'gw-a', password: pwA });
    expect(squat.code).toBe(2);
    for (const clientId of ['gw-b', 'gw-a', 'warden-edge-gw-a-x', 'warden-edge-+', 'mqttjs_1234']) {
      expect((await refusedConnect(t.hub.mqttUrl, { clientId, username: 'gw-a', password: pwA })).code, clientId).toBe(2);
    }
    expect(await metric(t.hub, 'warden_hub_auth_failures_total', { reason: 'client_id_not_assigned' })).toBe(7);
    const b = await connectGateway(t.hub.mqttUrl, 'gw-b', pwB);
    expect(b.connected).toBe(true);
    const a = await connectGateway(t.hub.mqttUrl, 'gw-a', pwA);
    expect(a.connected).toBe(true);
    await a.endAsync();
    await b.endAsync();
  });

  it('refuses a publish into another gateway\'s subtree: counted, connection closed, never delivered', async () => {
    const b = await connectGateway(t.hub.mqttUrl, 'gw-b', pwB);
    const received: string[] = [];
    b.on('message', (topic) => received.push(topic));
    await b.subscribeAsync(gatewayTopic('gw-b', 'cmd'), { qos: 1 });

    const a = await connectGateway(t.hub.mqttUrl, 'gw-a', pwA);
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish(gatewayTopic('gw-b', 'cmd'), JSON.stringify({ v: 1, id: 'forged-command-1', device: 'door-1', action: 'door.unlock', params: {}, ts: Date.now() }), { qos: 1 });
    await closed;
    expect(await metric(t.hub, 'warden_hub_rejected_total', { reason: 'acl_publish_denied' })).toBe(1);

    // Also a forged status for B on B's topic, published by A: refused the same way.
    const a2 = await connectGateway(t.hub.mqttUrl, 'gw-a', pwA);
    const closed2 = new Promise<void>((resolve) => a2.once('close', () => resolve()));
    a2.publish(gatewayTopic('gw-b', 'status'), status('gw-b', 'offline'), { qos: 1 });
    await closed2;
    expect(await metric(t.hub, 'warden_hub_rejected_total', { reason: 'acl_publish_denied' })).toBe(2);

    // B's own traffic still flows: a round trip on B proves anything earlier would have arrived by now.
    await b.publishAsync(gatewayTopic('gw-b', 'status'), status('gw-b', 'online'), { qos: 1 });
    expect(received).toEqual([]);
    const res = await fetch(`${t.hub.httpUrl}/api/health`);
    expect(res.status).toBe(200);
    await b.endAsync();
  });

  it('refuses a subscription to another gateway\'s commands with SUBACK 0x80, counted, and keeps the connection', async () => {
    const a = await connectGateway(t.hub.mqttUrl, 'gw-a', pwA);
    // mqtt.js reports any 0x80 in a SUBACK as an error carrying the packet.
    const suback = await a.subscribeAsync([gatewayTopic('gw-b', 'cmd'), gatewayTopic('gw-a', 'cmd')], { qos: 1 }).then(
      () => null,
      (err: { packet?: { granted?: number[] } }) => err.packet,
    );
    expect(suback?.granted).toEqual([128, 1]);
    expect(await metric(t.hub, 'warden_hub_rejected_total', { reason: 'acl_subscribe_denied' })).toBe(1);
    expect(a.connected).toBe(true);
    await a.endAsync();
  });

  it('refuses a publish to an unknown channel of its own subtree as unknown_topic', async () => {
    const a = await connectGateway(t.hub.mqttUrl, 'gw-a', pwA);
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish('warden/v1/gw/gw-a/firmware', 'x', { qos: 1 });
    await closed;
    expect(await metric(t.hub, 'warden_hub_rejected_total', { reason: 'unknown_topic' })).toBe(1);
  });

  it('drops a connection announcing an oversized packet before buffering it, and keeps serving', async () => {
    const a = await connectGateway(t.hub.mqttUrl, 'gw-a', pwA);
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish(gatewayTopic('gw-a', 'up'), Buffer.alloc(10 * 1024 * 1024, 0x20), { qos: 1 });
    await closed;
    await eventually(async () => (await metric(t.hub, 'warden_hub_rejected_total', { reason: 'oversized' })) === 1, 'oversized counted');
    const again = await connectGateway(t.hub.mqttUrl, 'gw-a', pwA);
    expect(again.connected).toBe(true);
    await again.endAsync();
  });

  it('speaks MQTT over WebSocket on the HTTP port with the same authentication', async () => {
    const ws = await connectGateway(t.hub.httpUrl.replace('http', 'ws') + '/mqtt', 'gw-a', pwA);
    const granted = await ws.subscribeAsync(gatewayTopic('gw-a', 'ack'), { qos: 1 });
    expect(granted[0]!.qos).toBe(1);
    await ws.endAsync();
    const before = await metric(t.hub, 'warden_hub_auth_failures_total', { reason: 'bad_password' });
    const err = await refusedConnect(t.hub.httpUrl.replace('http', 'ws') + '/mqtt', { clientId: 'gw-a', username: 'gw-a', password: 'nope-nope-nope' });
    expect(err.code).toBe(5);
    expect(await metric(t.hub, 'warden_hub_auth_failures_total', { reason: 'bad_password' })).toBe(before + 1);
  });
});
