import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { allGatewaysTopic, gatewayTopic, newId, validateBatchEnvelope, validateRecord, type UplinkRecord } from '@warden/contract';
import { startEdgeAgent, type EdgeAgent } from '../src/agent.ts';
import { EdgeConfigError, parseEdgeConfig } from '../src/config.ts';
import { hubBroker, ackFor, eventually, fieldDevice, outboxRecords, silent, tempDir } from './helpers.ts';

/**
 * A stand-in for the hub: a real aedes broker with a subscriber that stores uplink records, acks them,
 * and (when `linkage` is set) answers a fire alarm with its own release commands, as the hub's linkage does.
 */
async function standInHub(port = 0, linkage?: Array<{ device: string; action: string; params: Record<string, unknown> }>) {
  const { port: actual, sub, close: closeBroker } = await hubBroker(port);
  const records: UplinkRecord[] = [];
  const send = (gw: string, cmd: { device: string; action: string; params: Record<string, unknown> }) =>
    sub.publishAsync(gatewayTopic(gw, 'cmd'), JSON.stringify({ v: 1, id: newId(), ts: Date.now(), ...cmd }), { qos: 1 });
  sub.on('message', (topic, payload) => {
    const gw = topic.split('/')[3]!;
    const env = validateBatchEnvelope(JSON.parse(payload.toString()));
    if (!env.ok) throw new Error(env.detail);
    for (const r of env.value.records) {
      const v = validateRecord(r);
      if (!v.ok) throw new Error(v.detail);
      if (records.some((x) => x.id === v.value.id)) continue;
      records.push(v.value);
      if (linkage && v.value.kind === 'event' && v.value.type === 'fire.alarm') for (const c of linkage) void send(gw, c);
    }
    sub.publish(gatewayTopic(gw, 'ack'), ackFor(env.value), { qos: 1 });
  });
  await sub.subscribeAsync(allGatewaysTopic('up'), { qos: 1 });
  return {
    port: actual,
    records,
    send,
    events: (type: string) => records.filter((r): r is Extract<UplinkRecord, { kind: 'event' }> => r.kind === 'event' && r.type === type),
    async close() {
      await closeBroker();
    },
  };
}

/** A door controller / turnstile on the field broker that obeys its native commands and replies OK. */
async function obedient(port: number, id: string, kind: 'door' | 'gate') {
  // Listens for commands before it says it is online, as the field protocol's devices do.
  const client = await fieldDevice(port, id, { announce: false });
  const received: Array<Record<string, unknown>> = [];
  const topic = kind === 'door' ? `acs/${id}/control` : `gate/${id}/set`;
  client.on('message', (_t, payload) => {
    const cmd = JSON.parse(payload.toString()) as Record<string, unknown> & { ref: string };
    received.push(cmd);
    const reply = kind === 'door' ? { ref: cmd.ref, result: 'OK' } : { ref: cmd.ref, ok: true };
    // A reply still in flight when a test ends its device (endAsync(true)) is cut off: not a failure.
    client.publishAsync(`${topic}/reply`, JSON.stringify(reply), { qos: 1 }).catch(() => undefined);
  });
  await client.subscribeAsync(topic, { qos: 1 });
  await client.publishAsync(`avail/${id}`, 'online', { qos: 1, retain: true });
  return { client, received };
}

const DEVICES = [
  { id: 'door-1', driver: 'door-controller' },
  { id: 'door-2', driver: 'door-controller' },
  { id: 'door-3', driver: 'door-controller' },
  { id: 'gate-1', driver: 'turnstile' },
  { id: 'smoke-1', driver: 'fire-sensor' },
];

describe('fire fail-safe on the gateway', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(hubPort: number, fire: Record<string, unknown>, offline: string[] = []) {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const config = parseEdgeConfig(
      {
        gateway: { id: 'gw-fs' },
        hub: { url: `mqtt://127.0.0.1:${hubPort}`, password: 'pw-fs-123', reconnectMs: 100 },
        field: { port: 0, requireAuth: false }, // loopback bench; field auth: field-security.test.ts
        outbox: { path: join(tmp.dir, 'outbox.db'), retryMs: 1000 },
        commands: { timeoutMs: 3000 },
        failsafe: { fire },
        devices: DEVICES,
      },
      'test',
      { env: {} },
    );
    const agent = await startEdgeAgent(config, { logger: silent });
    cleanups.push(() => agent.stop());
    const later = (id: string, kind: 'door' | 'gate') => {
      const connect = async () => {
        const d = await obedient(agent.field.port, id, kind);
        cleanups.push(() => d.client.endAsync(true));
        return d;
      };
      return offline.includes(id) ? { received: [] as Array<Record<string, unknown>>, connect } : connect();
    };
    const devices = {
      door1: (await later('door-1', 'door')) as Awaited<ReturnType<typeof obedient>>,
      door2: (await later('door-2', 'door')) as Awaited<ReturnType<typeof obedient>>,
      door3: await later('door-3', 'door'),
      gate1: (await later('gate-1', 'gate')) as Awaited<ReturnType<typeof obedient>>,
      smoke: await fieldDevice(agent.field.port, 'smoke-1'),
    };
    cleanups.push(() => devices.smoke.endAsync(true));
    await eventually(() => agent.devicesOnline() === 5 - offline.length, 'devices online');
    return { agent, config, ...devices };
  }

  const smoke = (c: MqttClient, alarm: boolean) => c.publishAsync('fire/smoke-1/state', JSON.stringify({ alarm, obscuration: alarm ? 8 : 0.1 }), { qos: 1 });
  const ops = (d: { received: Array<Record<string, unknown>> }) => d.received.map((c) => c.op ?? c.mode);

  it('with the hub down, holds the listed doors open and frees the turnstiles at once, and the hub learns it when the link returns', async () => {
    const probe = await standInHub();
    const port = probe.port;
    await probe.close(); // the hub is down
    const s = await start(port, { enabled: true, doors: ['door-1', 'door-2'], turnstiles: 'all', confirmMs: 60_000 });

    await smoke(s.smoke, true);
    await eventually(() => ops(s.door1).includes('HOLD_OPEN') && ops(s.door2).includes('HOLD_OPEN') && ops(s.gate1).includes('FREE'), 'doors held open, gate free');
    expect(ops(s.door3)).toEqual([]); // not on the evacuation list

    const queued = await eventually(async () => {
      const r = await outboxRecords(s.config.outbox.path);
      return r.filter((x) => x.kind === 'event' && x.type === 'command.result').length === 3 ? r : undefined;
    }, 'three command results in the outbox');
    const fs = queued!.find((r) => r.kind === 'event' && r.type === 'linkage.failsafe')!;
    expect(fs).toMatchObject({ device: 'smoke-1', data: { trigger: 'fire.alarm', reason: 'hub_down' } });
    const actions = (fs as { data: { actions: Array<{ device: string; action: string; command: string }> } }).data.actions;
    expect(actions.map((a) => [a.device, a.action])).toEqual([
      ['door-1', 'door.hold_open'],
      ['door-2', 'door.hold_open'],
      ['gate-1', 'turnstile.set_mode'],
    ]);
    expect(s.agent.metrics.registry.getSingleMetric('warden_edge_failsafe_actions_total')).toBeDefined();

    // A second alarm while they are still released sends nothing again: they stay released.
    await smoke(s.smoke, false);
    await smoke(s.smoke, true);

    const hub = await standInHub(port);
    cleanups.push(() => hub.close());
    await eventually(() => hub.events('command.result').length === 3 && hub.events('fire.alarm').length === 2, 'outbox delivered after the link returns');
    expect(hub.events('linkage.failsafe')).toHaveLength(1);
    expect(hub.events('command.result').map((r) => (r.data as { command: string; ok: boolean }).ok)).toEqual([true, true, true]);
    expect(hub.events('command.result').map((r) => (r.data as { command: string }).command).sort()).toEqual(actions.map((a) => a.command).sort());
    expect(ops(s.door1)).toEqual(['HOLD_OPEN']);

    // Only an explicit door.normal ends the hold; the next alarm (hub down again) releases that door again.
    await hub.send('gw-fs', { device: 'door-1', action: 'door.normal', params: {} });
    await eventually(() => ops(s.door1).includes('NORMAL'), 'door-1 back to normal');
    await hub.close();
    cleanups.pop();
    await eventually(() => !s.agent.hubConnected(), 'link down again');
    await smoke(s.smoke, false);
    await smoke(s.smoke, true);
    await eventually(() => ops(s.door1).filter((o) => o === 'HOLD_OPEN').length === 2, 'door-1 released again');
    expect(ops(s.door2)).toEqual(['HOLD_OPEN']);
  });

  it('with the hub up, leaves alone what the hub released itself and releases the rest after confirmMs', async () => {
    const hub = await standInHub(0, [
      { device: 'door-1', action: 'door.hold_open', params: {} },
      { device: 'gate-1', action: 'turnstile.set_mode', params: { mode: 'free' } },
    ]);
    cleanups.push(() => hub.close());
    const s = await start(hub.port, { enabled: true, confirmMs: 2000 });
    await eventually(() => s.agent.hubConnected(), 'link up');

    await smoke(s.smoke, true);
    const [fs] = await eventually(() => (hub.events('linkage.failsafe').length ? hub.events('linkage.failsafe') : undefined), 'fail-safe report');
    expect(fs!.data).toMatchObject({ trigger: 'fire.alarm', reason: 'not_confirmed' });
    expect((fs!.data as { actions: Array<{ device: string }> }).actions.map((a) => a.device)).toEqual(['door-2', 'door-3']);
    await eventually(() => ops(s.door2).includes('HOLD_OPEN') && ops(s.door3).includes('HOLD_OPEN'), 'the rest held open');
    expect(ops(s.door1)).toEqual(['HOLD_OPEN']); // once, from the hub
    expect(ops(s.gate1)).toEqual(['FREE']);
  });

  it('releases a door that was offline during the alarm as soon as it is back', async () => {
    const probe = await standInHub();
    await probe.close();
    const s = await start(probe.port, { enabled: true, doors: ['door-1', 'door-3'], turnstiles: [] }, ['door-3']);
    await smoke(s.smoke, true);
    await eventually(() => ops(s.door1).includes('HOLD_OPEN'), 'door-1 held open');
    const failed = await eventually(async () => {
      const r = await outboxRecords(s.config.outbox.path);
      return r.find((x) => x.kind === 'event' && x.type === 'command.result' && x.device === 'door-3');
    }, 'the offline door fails');
    expect(failed!.kind === 'event' && failed!.data).toMatchObject({ ok: false, error: 'device offline' });

    const door3 = await (s.door3 as { connect(): Promise<Awaited<ReturnType<typeof obedient>>> }).connect();
    await eventually(() => ops(door3).includes('HOLD_OPEN'), 'door-3 held open once back');
    const reports = (await outboxRecords(s.config.outbox.path)).filter((r) => r.kind === 'event' && r.type === 'linkage.failsafe');
    expect(reports.map((r) => (r as { data: { actions: Array<{ device: string }> } }).data.actions.map((a) => a.device))).toEqual([['door-1', 'door-3'], ['door-3']]);
    expect(ops(s.door1)).toEqual(['HOLD_OPEN']);
  });

  it('is off unless enabled', async () => {
    const probe = await standInHub();
    await probe.close();
    const s = await start(probe.port, {});
    await smoke(s.smoke, true);
    await eventually(async () => (await outboxRecords(s.config.outbox.path)).some((r) => r.kind === 'event' && r.type === 'fire.alarm'), 'alarm stored');
    expect((await outboxRecords(s.config.outbox.path)).some((r) => r.kind === 'event' && r.type === 'linkage.failsafe')).toBe(false);
    expect(ops(s.door1)).toEqual([]);
  });

  it('names every config mistake by its path', () => {
    const ok = parseEdgeConfig({ gateway: { id: 'gw-a' }, field: { requireAuth: false }, devices: DEVICES }, 'test', { env: {} });
    expect(ok.failsafe).toEqual({ fire: { enabled: false, doors: 'all', turnstiles: 'all', confirmMs: 5000 } });
    let err: EdgeConfigError | undefined;
    try {
      parseEdgeConfig(
        { gateway: { id: 'gw-a' }, field: { requireAuth: false }, devices: DEVICES, failsafe: { fire: { enabled: 'yes', doors: ['door-1', 'door-9', 'gate-1', 'door-1'], turnstiles: 'some', confirmMs: -1, extra: 1 } } },
        'test',
        { env: {} },
      );
    } catch (e) {
      err = e as EdgeConfigError;
    }
    expect(err).toBeInstanceOf(EdgeConfigError);
    expect(err!.errors).toEqual(
      expect.arrayContaining([
        'failsafe/fire/extra: unknown key (known: enabled, doors, turnstiles, confirmMs)',
        'failsafe/fire/enabled: must be boolean',
        'failsafe/fire/confirmMs: must be >= 0',
        'failsafe/fire/doors/1: "door-9" is not a device of this gateway',
        'failsafe/fire/doors/2: "gate-1" is a turnstile, not a door',
        'failsafe/fire/doors/3: "door-1" is listed twice',
        expect.stringMatching(/^failsafe\/fire\/turnstiles: /),
      ]),
    );
  });
});
