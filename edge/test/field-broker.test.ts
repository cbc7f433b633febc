import { createConnection } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startEdgeAgent, type EdgeAgent } from '../src/agent.ts';
import { parseEdgeConfig } from '../src/config.ts';
import { eventually, fieldDevice, outboxRecords, silent, tempDir, deadPort } from './helpers.ts';

/** A port with nothing listening: the hub is down for these tests, which the agent must tolerate. */
describe('field broker', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function agentWith(field: Record<string, unknown>, more: Array<Record<string, unknown>> = []): Promise<{ agent: EdgeAgent; outbox: string }> {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const outbox = join(tmp.dir, 'outbox.db');
    const config = parseEdgeConfig(
      {
        gateway: { id: 'gw-test' },
        hub: { url: `mqtt://127.0.0.1:${await deadPort()}`, password: 'x', reconnectMs: 60_000 },
        field: { port: 0, ...field },
        outbox: { path: outbox },
        devices: [
          { id: 'door-1', driver: 'door-controller', secret: 'door-1-secret' },
          { id: 'door-2', driver: 'door-controller', secret: 'door-2-secret' },
          ...more,
        ],
      },
      'test',
      { env: {} },
    );
    const agent = await startEdgeAgent(config, { logger: silent });
    cleanups.push(() => agent.stop());
    return { agent, outbox };
  }

  const track = <T extends { endAsync(force?: boolean): Promise<void> }>(c: T): T => {
    cleanups.push(() => c.endAsync(true));
    return c;
  };

  /** The devices' secrets in agentWith: `<id>-secret`. */
  const login = (port: number, id: string, opts: { announce?: boolean } = {}) => fieldDevice(port, id, { password: `${id}-secret`, ...opts });

  it('checks device credentials (requireAuth is on by default)', async () => {
    const { agent } = await agentWith({});
    const ok = track(await fieldDevice(agent.field.port, 'door-1', { password: 'door-1-secret' }));
    expect(ok.connected).toBe(true);
    await expect(fieldDevice(agent.field.port, 'door-2', { password: 'wrong-secret' })).rejects.toThrow(/Bad username or password/i);
    await expect(fieldDevice(agent.field.port, 'door-2', { username: 'door-1', password: 'door-1-secret' })).rejects.toThrow(/Bad username or password/i);
    await expect(fieldDevice(agent.field.port, 'ghost', { password: 'whatever-secret' })).rejects.toThrow(/Identifier rejected/i);
    await expect(fieldDevice(agent.field.port, 'door-2')).rejects.toThrow(/Bad username or password/i);
    expect(agent.metrics.get('rejected.auth_failed')).toBe(3);
    expect(agent.metrics.get('rejected.client_id_refused')).toBe(1);
  });

  it('admits only field-mqtt devices: a polled Modbus meter cannot log in or be marked online over MQTT', async () => {
    // The meter's converter is unreachable and it would take 100 failed polls to report it offline.
    const meter = { id: 'pm-9', driver: 'modbus-meter', options: { medium: 'power', host: '127.0.0.1', port: await deadPort(), map: 'sdm630', pollSeconds: 3600, offlineAfterFailures: 100 } };
    const secured = await agentWith({}, [meter]);
    await expect(fieldDevice(secured.agent.field.port, 'pm-9', { password: 'any-password-at-all' })).rejects.toThrow(/Identifier rejected/i);

    // Even on a loopback bench without device auth, only configured field-MQTT devices may log in.
    const open = await agentWith({ requireAuth: false }, [meter]);
    await expect(fieldDevice(open.agent.field.port, 'pm-9')).rejects.toThrow(/Identifier rejected/i);
    expect(open.agent.metrics.get('rejected.client_id_refused')).toBe(1);
    const d1 = track(await fieldDevice(open.agent.field.port, 'door-1'));
    await eventually(() => open.agent.devicesOnline() === 1, 'door-1 online');
    expect(d1.connected).toBe(true);
    expect((await outboxRecords(open.outbox)).filter((r) => r.device === 'pm-9')).toEqual([]);
  });

  it('keeps each device to its own topics', async () => {
    const { agent } = await agentWith({});
    const d1 = track(await login(agent.field.port, 'door-1'));
    expect((await d1.subscribeAsync('acs/door-1/control', { qos: 1 }))[0]!.qos).toBe(1);
    // Refused subscriptions get SUBACK 0x80 (mqtt.js reports that as an error); the connection stays up.
    for (const topic of ['acs/door-2/control', '#', '$SYS/#']) {
      await expect(d1.subscribeAsync(topic, { qos: 1 }), topic).rejects.toThrow(/Subscribe error/);
    }
    expect(agent.metrics.get('rejected.acl_subscribe_denied')).toBe(3);
    expect(d1.connected).toBe(true);

    const closed = new Promise<void>((r) => d1.once('close', () => r()));
    d1.publish('acs/door-2/event', JSON.stringify({ event: 'FORCED_OPEN' }), { qos: 1 });
    await closed; // MQTT 3.1.1 has no negative PUBACK: a refused publish ends the connection
    expect(agent.metrics.get('rejected.acl_publish_denied')).toBe(1);
  });

  it('drops a connection that announces an oversized packet, and counts it', async () => {
    const { agent } = await agentWith({ maxPacketBytes: 2048 });
    const d1 = track(await login(agent.field.port, 'door-1'));
    const closed = new Promise<void>((r) => d1.once('close', () => r()));
    d1.publish('acs/door-1/event', Buffer.alloc(4096, 'x'), { qos: 0 });
    await closed;
    expect(agent.metrics.get('rejected.oversized')).toBe(1);

    // Also from a raw socket that sends only a fixed header announcing 200 MB.
    const sock = createConnection(agent.field.port, '127.0.0.1');
    cleanups.push(() => sock.destroy());
    await new Promise((r) => sock.once('connect', r));
    sock.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
    await new Promise((r) => sock.once('close', r));
    expect(agent.metrics.get('rejected.oversized')).toBe(2);
  });

  it('counts bad input from devices and keeps running', async () => {
    const { agent, outbox } = await agentWith({});
    await expect(fieldDevice(agent.field.port, 'ghost', { password: 'ghost-secret' })).rejects.toThrow(/Identifier rejected/i);
    const d1 = track(await login(agent.field.port, 'door-1'));
    await d1.publishAsync('acs/door-1/event', '{"event": DOOR_OPEN', { qos: 1 });
    await d1.publishAsync('acs/door-1/event', JSON.stringify({ event: 'DOOR_WIDE_OPEN' }), { qos: 1 });
    await d1.publishAsync('acs/door-1/telemetry', JSON.stringify({ x: 1 }), { qos: 1 });
    await d1.publishAsync('avail/door-1', 'maybe', { qos: 1 });
    await d1.publishAsync('acs/door-1/event', JSON.stringify({ event: 'FORCED_OPEN', door: 1 }), { qos: 1 });
    expect(agent.metrics.summary()).toMatchObject({
      'rejected.client_id_refused': 1,
      'rejected.malformed_json': 1,
      'rejected.schema_invalid': 2,
      'rejected.unknown_topic': 1,
    });
    // The good message after the bad ones was committed (QoS 1 is acknowledged only after the commit).
    const records = await outboxRecords(outbox);
    expect(records.filter((r) => r.kind === 'event' && r.type === 'door.forced').map((r) => r.device)).toEqual(['door-1']);
    expect(records.some((r) => r.device === 'ghost')).toBe(false);
    expect(d1.connected).toBe(true);
  });

  it('turns availability into device.online / device.offline transitions', async () => {
    const { agent, outbox } = await agentWith({});
    const types = async (device: string) =>
      (await outboxRecords(outbox)).filter((r) => r.device === device && r.kind === 'event').map((r) => (r.kind === 'event' ? r.type : ''));

    const d1 = await login(agent.field.port, 'door-1'); // connect + avail online: one transition
    await eventually(() => agent.devicesOnline() === 1, 'door-1 online');
    await d1.publishAsync('avail/door-1', 'offline', { qos: 1, retain: true });
    await eventually(() => agent.devicesOnline() === 0, 'door-1 offline');
    await d1.endAsync(); // clean disconnect while already offline: no second event
    const d1b = await login(agent.field.port, 'door-1');
    await eventually(() => agent.devicesOnline() === 1, 'door-1 back');
    (d1b.stream as import('node:net').Socket).destroy(); // power cut: will + connection loss, one event
    await eventually(() => agent.devicesOnline() === 0, 'door-1 gone');
    d1b.end(true);
    expect(await types('door-1')).toEqual(['device.online', 'device.offline', 'device.online', 'device.offline']);
    const last = (await outboxRecords(outbox)).filter((r) => r.device === 'door-1').at(-1)!;
    expect(last.kind === 'event' && last.data).toEqual({ reason: expect.stringMatching(/reported offline|disconnected/) });
  });

  it('takes devices that speak before announcing themselves', async () => {
    const { agent } = await agentWith({});
    const c = track(await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.field.port}`, { clientId: 'door-2', username: 'door-2', password: 'door-2-secret', reconnectPeriod: 0 }));
    expect(c.connected).toBe(true);
    await eventually(() => agent.devicesOnline() === 1, 'online from the connection alone');
    expect(agent.backlog()).toBe(1);
  });
});
