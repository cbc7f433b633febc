import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  allGatewaysTopic,
  gatewayTopic,
  newId,
  parseGatewayTopic,
  validateBatchEnvelope,
  validateInventory,
  validateRecord,
  validateStatus,
  type GatewayStatus,
  type Inventory,
  type UplinkRecord,
} from '@warden/contract';
import { startEdgeAgent, type EdgeAgent } from '../src/agent.ts';
import { parseEdgeConfig, type EdgeConfig } from '../src/config.ts';
import { hubBroker, ackFor, eventually, fieldDevice, silent, tempDir } from './helpers.ts';

/**
 * Stands in for the hub (written elsewhere): a real aedes broker on 127.0.0.1 plus a tiny subscriber
 * that records every uplink batch and acknowledges it cumulatively, as the hub does once it has stored it.
 */
async function startStandInHub(port = 0) {
  const { port: actualPort, sub, close: closeBroker } = await hubBroker(port);
  const records: UplinkRecord[] = [];
  const statuses: GatewayStatus[] = [];
  const inventories: Inventory[] = [];
  let acking = true;
  sub.on('message', (topic, payload) => {
    const t = parseGatewayTopic(topic)!;
    const body = JSON.parse(payload.toString()) as unknown;
    if (t.channel === 'status') {
      const v = validateStatus(body);
      if (!v.ok) throw new Error(v.detail);
      statuses.push(v.value);
    } else if (t.channel === 'inventory') {
      const v = validateInventory(body);
      if (!v.ok) throw new Error(v.detail);
      inventories.push(v.value);
    } else if (t.channel === 'up') {
      const env = validateBatchEnvelope(body);
      if (!env.ok) throw new Error(env.detail);
      for (const r of env.value.records) {
        const v = validateRecord(r);
        if (!v.ok) throw new Error(v.detail);
        records.push(v.value);
      }
      if (acking) sub.publish(gatewayTopic(t.gatewayId, 'ack'), ackFor(env.value), { qos: 1 });
    }
  });
  await sub.subscribeAsync([allGatewaysTopic('up'), allGatewaysTopic('status'), allGatewaysTopic('inventory')], { qos: 1 });
  return {
    port: actualPort,
    records,
    statuses,
    inventories,
    setAcking: (on: boolean) => (acking = on),
    /** First arrival of each record id, in arrival order (the hub deduplicates by id). */
    unique(): UplinkRecord[] {
      const seen = new Set<string>();
      return records.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
    },
    events(type: string): UplinkRecord[] {
      return this.unique().filter((r) => r.kind === 'event' && r.type === type);
    },
    sendCommand(gw: string, cmd: Record<string, unknown>) {
      return sub.publishAsync(gatewayTopic(gw, 'cmd'), JSON.stringify({ v: 1, id: newId(), ts: Date.now(), params: {}, ...cmd }), { qos: 1 });
    },
    closed: false,
    async close() {
      if (this.closed) return;
      this.closed = true;
      await closeBroker();
    },
  };
}
type StandInHub = Awaited<ReturnType<typeof startStandInHub>>;

describe('edge agent against a stand-in hub', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function configFor(hubPort: number, dir: string, extra: Record<string, unknown> = {}): EdgeConfig {
    return parseEdgeConfig(
      {
        gateway: { id: 'gw-lib', name: 'Library' },
        hub: { url: `mqtt://127.0.0.1:${hubPort}`, password: 'gw-lib-password', reconnectMs: 100 },
        field: { port: 0, requireAuth: false }, // loopback bench; field auth: field-security.test.ts
        outbox: { path: join(dir, 'gw-lib-outbox.db'), retryMs: 2000 },
        metrics: { enabled: true, statusIntervalSeconds: 1 },
        commands: { timeoutMs: 500 },
        devices: [
          { id: 'door-1', driver: 'door-controller', name: 'Main door', building: 'library', zone: 'z1' },
          { id: 'gate-1', driver: 'turnstile' },
          { id: 'pm-1', driver: 'meter', options: { medium: 'power' } },
          { id: 'smoke-1', driver: 'fire-sensor' },
        ],
        ...extra,
      },
      'test',
      { env: {} },
    );
  }

  async function setup(extra: Record<string, unknown> = {}): Promise<{ hub: StandInHub; agent: EdgeAgent }> {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const hub = await startStandInHub();
    cleanups.push(() => hub.close());
    const config = configFor(hub.port, tmp.dir, extra);
    const agent = await startEdgeAgent(config, { logger: silent });
    cleanups.push(() => agent.stop());
    return { hub, agent };
  }

  async function device(agent: EdgeAgent, id: string): Promise<MqttClient> {
    const c = await fieldDevice(agent.field.port, id);
    cleanups.push(() => c.endAsync(true));
    return c;
  }

  it('announces itself, streams records in order, and empties the outbox on ack', async () => {
    const { hub, agent } = await setup();
    await eventually(() => agent.hubConnected(), 'hub link up');
    await eventually(() => hub.inventories.length > 0, 'inventory');
    expect(hub.inventories[0]!.devices).toEqual([
      { id: 'door-1', kind: 'door', driver: 'door-controller', name: 'Main door', building: 'library', zone: 'z1' },
      { id: 'gate-1', kind: 'turnstile', driver: 'turnstile' },
      { id: 'pm-1', kind: 'meter', driver: 'meter', medium: 'power' },
      { id: 'smoke-1', kind: 'fire_sensor', driver: 'fire-sensor' },
    ]);
    const birth = await eventually(() => hub.statuses.find((s) => s.state === 'online'), 'birth');
    expect(birth).toMatchObject({ gw: 'gw-lib', agentVersion: expect.any(String), devicesTotal: 4, backlog: expect.any(Number) });

    const door = await device(agent, 'door-1');
    for (let i = 1; i <= 20; i++) await door.publishAsync('acs/door-1/event', JSON.stringify({ event: i % 2 ? 'DOOR_OPEN' : 'DOOR_CLOSE', door: 1 }), { qos: 1 });
    await eventually(() => hub.unique().filter((r) => r.device === 'door-1' && r.kind === 'event' && r.type.startsWith('door.')).length === 20, '20 door events');
    const seqs = hub.unique().map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(hub.events('device.online').map((r) => r.device)).toEqual(['door-1']);
    await eventually(() => agent.backlog() === 0, 'outbox emptied by acks');

    // The heartbeat carries the backlog, device counts and counters.
    // A heartbeat sent while the 20 events were still arriving counts fewer: wait for one after them (1 s period).
    const beat = await eventually(() => hub.statuses.find((s) => s.state === 'online' && s.devicesOnline === 1 && (s.counters?.['records.event'] ?? 0) >= 21), 'heartbeat');
    expect(beat.counters!['records.event']).toBeGreaterThanOrEqual(21);

    // Prometheus text over HTTP.
    const text = await (await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`)).text();
    expect(text).toMatch(/warden_edge_records_total\{kind="event"\} \d+/);
    expect(text).toMatch(/warden_edge_hub_connected 1/);
    expect(text).toMatch(/warden_edge_devices_online 1/);
    expect(text).toMatch(/warden_edge_backlog 0/);
  });

  it('queues through a hub outage and delivers all 1000 events in per-device order', async () => {
    const { hub, agent } = await setup();
    await eventually(() => agent.hubConnected(), 'hub link up');
    const gate = await device(agent, 'gate-1');
    const door = await device(agent, 'door-1');
    await eventually(() => hub.events('device.online').length === 2, 'devices online at the hub');

    const base = Date.parse('2026-11-29T04:00:00.000Z');
    // Interleaved across two devices; each event carries its index as its source time.
    const publish = (i: number) =>
      i % 2
        ? gate.publishAsync('gate/gate-1/pass', JSON.stringify({ dir: 'IN', auth: true, t: base + i }), { qos: 1 })
        : door.publishAsync('acs/door-1/event', JSON.stringify({ event: 'CARD_GRANTED', card: String(i), time: new Date(base + i).toISOString() }), { qos: 1 });
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

    // The hub goes away while the first 300 are streaming, so batches are cut off in flight.
    await Promise.all(range(0, 300).map(publish));
    const port = hub.port;
    await hub.close();
    await eventually(() => !agent.hubConnected(), 'hub link down');
    await Promise.all(range(300, 1000).map(publish));
    expect(agent.backlog()).toBeGreaterThanOrEqual(700);

    const hub2 = await startStandInHub(port);
    cleanups.push(() => hub2.close());
    const isPass = (r: UplinkRecord) => r.kind === 'event' && (r.type === 'turnstile.pass' || r.type === 'access.granted');
    // What either hub received, first arrival of each record id (the hub deduplicates by id).
    const delivered = () => {
      const seen = new Set<string>();
      return [...hub.records, ...hub2.records].filter((r) => isPass(r) && !seen.has(r.id) && seen.add(r.id));
    };
    await eventually(() => delivered().length === 1000, 'all 1000 events delivered', 30_000);
    const order = (id: string) => delivered().filter((r) => r.device === id).map((r) => r.ts - base);
    expect(order('gate-1')).toEqual(range(0, 500).map((k) => 2 * k + 1)); // none lost, none out of order
    expect(order('door-1')).toEqual(range(0, 500).map((k) => 2 * k));
    await eventually(() => agent.backlog() === 0, 'outbox drained');
  });

  it('resends from the oldest record when acks stop coming', async () => {
    const tmpOutbox = tempDir();
    cleanups.push(() => tmpOutbox.remove());
    const { hub, agent } = await setup({ outbox: { path: join(tmpOutbox.dir, 'ob.db'), retryMs: 300 } });
    await eventually(() => agent.hubConnected(), 'hub link up');
    hub.setAcking(false);
    const meter = await device(agent, 'pm-1');
    await meter.publishAsync('meter/pm-1/reading', JSON.stringify({ total: 10, instant: 1 }), { qos: 1 });
    await eventually(() => hub.records.filter((r) => r.kind === 'telemetry').length >= 2, 'a resend after retryMs', 10_000);
    expect(agent.metrics.get('batches.resends')).toBeGreaterThanOrEqual(1);
    expect(agent.backlog()).toBeGreaterThan(0);
    hub.setAcking(true);
    await eventually(() => agent.backlog() === 0, 'acked after the resend', 10_000);
  });

  it('round-trips commands: native command out, device reply back as command.result', async () => {
    const { hub, agent } = await setup();
    await eventually(() => agent.hubConnected(), 'hub link up');
    const door = await device(agent, 'door-1');
    const received: Array<Record<string, unknown>> = [];
    door.on('message', (topic, payload) => {
      const cmd = JSON.parse(payload.toString()) as { ref: string; op: string };
      received.push({ topic, ...cmd });
      const reply = cmd.op === 'LOCK' ? { ref: cmd.ref, result: 'ERROR', msg: 'bolt jammed' } : { ref: cmd.ref, result: 'OK' };
      door.publish('acs/door-1/control/reply', JSON.stringify(reply), { qos: 1 });
    });
    await door.subscribeAsync('acs/door-1/control', { qos: 1 });
    await device(agent, 'smoke-1');
    await eventually(() => hub.events('device.online').length === 2, 'devices online');

    await hub.sendCommand('gw-lib', { id: 'CMD-UNLOCK-1', device: 'door-1', action: 'door.unlock', params: { seconds: 3 } });
    await hub.sendCommand('gw-lib', { id: 'CMD-LOCK-1', device: 'door-1', action: 'door.lock' });
    await hub.sendCommand('gw-lib', { id: 'CMD-SMOKE-1', device: 'smoke-1', action: 'door.unlock' });
    await hub.sendCommand('gw-lib', { id: 'CMD-EXPIRED', device: 'door-1', action: 'door.lock', expiresAt: Date.now() - 1000 });
    await hub.sendCommand('gw-lib', { id: 'CMD-OFFLINE', device: 'gate-1', action: 'turnstile.set_mode', params: { mode: 'free' } });
    await hub.sendCommand('gw-lib', { id: 'CMD-NOBODY1', device: 'door-99', action: 'door.lock' });
    await hub.sendCommand('gw-lib', { id: 'CMD-BADPARAM', device: 'door-1', action: 'door.unlock', params: { seconds: 0 } });

    const results = await eventually(() => {
      const r = hub.events('command.result');
      return r.length === 7 ? r : undefined;
    }, 'seven command results');
    const byId = Object.fromEntries(results.map((r) => [(r.kind === 'event' && (r.data as { command: string }).command) || '', r]));
    const data = (id: string) => (byId[id]!.kind === 'event' ? byId[id]!.data : null);
    expect(data('CMD-UNLOCK-1')).toEqual({ command: 'CMD-UNLOCK-1', action: 'door.unlock', ok: true });
    expect(data('CMD-LOCK-1')).toEqual({ command: 'CMD-LOCK-1', action: 'door.lock', ok: false, error: 'bolt jammed' });
    expect(data('CMD-SMOKE-1')).toEqual({ command: 'CMD-SMOKE-1', action: 'door.unlock', ok: false, error: 'action door.unlock is not supported by fire-sensor devices' });
    expect(data('CMD-EXPIRED')).toEqual({ command: 'CMD-EXPIRED', action: 'door.lock', ok: false, error: 'expired' });
    expect(data('CMD-OFFLINE')).toEqual({ command: 'CMD-OFFLINE', action: 'turnstile.set_mode', ok: false, error: 'device offline' });
    expect(data('CMD-NOBODY1')).toEqual({ command: 'CMD-NOBODY1', action: 'door.lock', ok: false, error: 'unknown device door-99' });
    expect(data('CMD-BADPARAM')).toMatchObject({ command: 'CMD-BADPARAM', action: 'door.unlock', ok: false, error: expect.stringMatching(/seconds/) });
    expect(byId['CMD-UNLOCK-1']!.device).toBe('door-1');
    expect(received).toEqual([
      { topic: 'acs/door-1/control', op: 'UNLOCK', seconds: 3, ref: 'CMD-UNLOCK-1' },
      { topic: 'acs/door-1/control', op: 'LOCK', ref: 'CMD-LOCK-1' },
    ]);
    expect(agent.metrics.summary()).toMatchObject({ 'rejected.expired': 1, 'rejected.unknown_device': 1, 'rejected.schema_invalid': 1 });
  });

  it('reports a timeout when the device never answers', async () => {
    const { hub, agent } = await setup();
    await eventually(() => agent.hubConnected(), 'hub link up');
    const gate = await device(agent, 'gate-1');
    await gate.subscribeAsync('gate/gate-1/set', { qos: 1 }); // receives, never replies
    await eventually(() => hub.events('device.online').length === 1, 'gate online');
    await hub.sendCommand('gw-lib', { id: 'CMD-SILENT-1', device: 'gate-1', action: 'turnstile.set_mode', params: { mode: 'locked' } });
    const [r] = await eventually(() => (hub.events('command.result').length ? hub.events('command.result') : undefined), 'timeout result');
    expect(r!.kind === 'event' && r!.data).toEqual({ command: 'CMD-SILENT-1', action: 'turnstile.set_mode', ok: false, error: 'timeout' });
  });

  it('restarts from the same config and outbox: queued records go out, seq continues', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.remove());
    const hub = await startStandInHub();
    const port = hub.port;
    await hub.close(); // the hub is down during the first run
    const config = configFor(port, tmp.dir);
    const first = await startEdgeAgent(config, { logger: silent });
    const smoke = await fieldDevice(first.field.port, 'smoke-1');
    await smoke.publishAsync('fire/smoke-1/state', JSON.stringify({ alarm: true, obscuration: 6.5 }), { qos: 1 });
    await smoke.endAsync(true);
    await eventually(() => first.devicesOnline() === 0, 'smoke detector gone');
    const queued = first.backlog();
    expect(queued).toBe(4); // device.online, fire.alarm, smoke_obscuration, device.offline
    await first.stop();

    const hub2 = await startStandInHub(port);
    cleanups.push(() => hub2.close());
    const second = await startEdgeAgent(config, { logger: silent });
    cleanups.push(() => second.stop());
    expect(second.backlog()).toBe(queued);
    await eventually(() => second.backlog() === 0, 'backlog from the first run delivered');
    expect(hub2.events('fire.alarm').map((r) => r.kind === 'event' && r.data)).toEqual([{ smoke: 6.5 }]);
    const d = await fieldDevice(second.field.port, 'door-1');
    cleanups.push(() => d.endAsync(true));
    const online = await eventually(() => hub2.events('device.online').find((r) => r.device === 'door-1'), 'new record after restart');
    expect(online.seq).toBeGreaterThan(queued);
  });
});
