import { gatewayTopic, newId } from '@warden/contract';
import type { MqttClient } from 'mqtt';
import { io } from 'socket.io-client';
import { eventually } from '../src/testing.ts';
import { startBenchHub, storedEvents } from './bench-hub.ts';
import { connectMqtt } from './clients.ts';
import { fmt, printTable, rssMiB, summarize } from './stats.ts';

const LOAD_GATEWAYS = 4;
const LOAD_DOORS = 50;
const PROBE_DOORS = 2000;
const BATCH = 100;
const PASSWORD = 'bench-gateway-password';

/** A gateway as the edge agent is one: retained birth and inventory, then event batches with rising seq. */
class BenchGateway {
  private seq = 0;
  constructor(
    readonly id: string,
    readonly client: MqttClient,
  ) {}
  static async connect(mqttUrl: string, id: string, devices: string[]): Promise<BenchGateway> {
    const client = await connectMqtt(mqttUrl, { clientId: `warden-edge-${id}`, username: id, password: PASSWORD });
    await client.publishAsync(gatewayTopic(id, 'status'), JSON.stringify({ v: 1, gw: id, state: 'online', ts: Date.now() }), { qos: 1, retain: true });
    const inventory = { v: 1, gw: id, ts: Date.now(), devices: devices.map((d) => ({ id: d, kind: 'door', driver: 'bench', building: 'bench' })) };
    await client.publishAsync(gatewayTopic(id, 'inventory'), JSON.stringify(inventory), { qos: 1, retain: true });
    return new BenchGateway(id, client);
  }
  publish(events: Array<{ device: string; type: string; data: Record<string, unknown> }>): void {
    const ts = Date.now();
    const records = events.map((e) => ({ id: newId(ts), seq: ++this.seq, device: e.device, ts, kind: 'event', type: e.type, data: e.data }));
    this.client.publish(gatewayTopic(this.id, 'up'), JSON.stringify({ v: 1, gw: this.id, records }), { qos: 1 });
  }
}

/** Ordinary door traffic that raises nothing: a grant, the door opens, the door closes. */
function normalTraffic(gw: number, i: number): { device: string; type: string; data: Record<string, unknown> } {
  const device = `door-g${gw}-${i % LOAD_DOORS}`;
  const step = Math.floor(i / LOAD_DOORS) % 3;
  if (step === 0) return { device, type: 'access.granted', data: { method: 'card', credential: `card-${i % 997}` } };
  return { device, type: step === 1 ? 'door.opened' : 'door.closed', data: { door: 1 } };
}

/**
 * Device event -> alarm on a socket.io client, with the hub as its own process under a background load of
 * `loadRate` events/s (gateways publishing batches of ordinary door traffic). Each probe is a door.forced on its own
 * door, so each is a new alarm. Baseline, in the same run: the same probe events' plain `event` delivery.
 */
export async function benchAlarmLatency(loadRate = 6000, seconds = 10, probeRate = 20): Promise<void> {
  const gateways = [...Array.from({ length: LOAD_GATEWAYS }, (_, g) => `gw-load-${g}`), 'gw-probe'];
  // The hub trusts only registered devices: every load door and probe door is in its registry.
  const registry = [
    ...Array.from({ length: LOAD_GATEWAYS }, (_, g) => Array.from({ length: LOAD_DOORS }, (_, i) => ({ id: `door-g${g}-${i}`, gateway: `gw-load-${g}`, kind: 'door', building: `b${g}` }))).flat(),
    ...Array.from({ length: PROBE_DOORS }, (_, i) => ({ id: `probe-${i}`, gateway: 'gw-probe', kind: 'door', building: 'probe' })),
  ];
  const bench = await startBenchHub('alarms', gateways, registry, PASSWORD);
  const { base, mqttUrl, hub } = bench;
  const clients: BenchGateway[] = [];
  try {
    const token = await bench.ready();
    for (let g = 0; g < LOAD_GATEWAYS; g++) clients.push(await BenchGateway.connect(mqttUrl, `gw-load-${g}`, Array.from({ length: LOAD_DOORS }, (_, i) => `door-g${g}-${i}`)));
    const probe = await BenchGateway.connect(mqttUrl, 'gw-probe', Array.from({ length: PROBE_DOORS }, (_, i) => `probe-${i}`));
    clients.push(probe);
    await eventually(async () => {
      const r = (await (await fetch(`${base}/api/devices`, { headers: { authorization: `Bearer ${token}` } })).json()) as { devices: unknown[] };
      return r.devices.length === LOAD_GATEWAYS * LOAD_DOORS + PROBE_DOORS;
    }, 30_000, 'inventories registered');

    const socket = io(base, { auth: { token }, transports: ['websocket'] });
    await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
    const sentAt = new Map<string, number>();
    const alarmLat: number[] = [];
    const eventLat: number[] = [];
    socket.on('alarm', (a: { device: string; type: string; count: number }) => {
      const t = a.type === 'door.forced' && a.count === 1 ? sentAt.get(a.device) : undefined;
      if (t !== undefined) alarmLat.push(performance.now() - t);
    });
    socket.on('event', (e: { device: string; type: string }) => {
      const t = e.type === 'door.forced' ? sentAt.get(e.device) : undefined;
      if (t !== undefined) eventLat.push(performance.now() - t);
    });

    const probes = Math.min(PROBE_DOORS, Math.round(probeRate * seconds));
    const before = await storedEvents(base);
    const t0 = performance.now();
    const perTickMs = 20;
    const perTick = (loadRate * perTickMs) / 1000;
    let sent = 0;
    let probed = 0;
    let n = 0;
    // One loop paces both: load batches and probes are due by wall time, so a slow hub shows up as latency.
    while (performance.now() - t0 < seconds * 1000) {
      const elapsed = performance.now() - t0;
      const dueLoad = Math.floor((elapsed / 1000) * loadRate);
      while (sent + BATCH <= dueLoad + perTick) {
        const g = n++ % LOAD_GATEWAYS;
        clients[g]!.publish(Array.from({ length: BATCH }, (_, k) => normalTraffic(g, sent + k)));
        sent += BATCH;
      }
      const dueProbes = Math.min(probes, Math.floor((elapsed / 1000) * probeRate));
      while (probed < dueProbes) {
        const device = `probe-${probed++}`;
        sentAt.set(device, performance.now());
        probe.publish([{ device, type: 'door.forced', data: { door: 1 } }]);
      }
      await new Promise((r) => setTimeout(r, perTickMs));
    }
    const elapsedS = (performance.now() - t0) / 1000;
    const rss = rssMiB(hub.child.pid!);
    await eventually(() => alarmLat.length >= probed && eventLat.length >= probed, 60_000, 'every probe alarm on socket.io');
    await eventually(async () => (await storedEvents(base)) - before >= sent + probed, 60_000, 'background load stored');
    const drainedS = (performance.now() - t0) / 1000;
    socket.close();

    const al = summarize(alarmLat);
    const ev = summarize(eventLat);
    printTable(
      `device event -> alarm on socket.io, hub as its own process, ${fmt(sent / elapsedS, 0)} background events/s offered for ${seconds} s (all stored within ${drainedS.toFixed(1)} s), ${probed} alarms`,
      [
        { metric: 'alarm latency p50 (ms)', warden: fmt(al.p50, 2), baseline: `${fmt(ev.p50, 2)} (same event, plain 'event')`, ratio: (al.p50 / ev.p50).toFixed(2) },
        { metric: 'alarm latency p99 (ms)', warden: fmt(al.p99, 2), baseline: fmt(ev.p99, 2), ratio: (al.p99 / ev.p99).toFixed(2) },
        { metric: 'alarm latency max (ms)', warden: fmt(al.max, 2), baseline: fmt(ev.max, 2), ratio: '' },
        { metric: 'p99 target (ms)', warden: al.p99 < 200 ? 'met' : 'MISSED', baseline: '200 (GB 50396: 2 000)', ratio: '' },
        { metric: 'background events stored / s', warden: fmt((sent + probed) / drainedS, 0), baseline: `${fmt(loadRate, 0)} offered`, ratio: '' },
        { metric: 'hub RSS under load (MiB)', warden: fmt(rss), baseline: '', ratio: '' },
      ],
    );
  } finally {
    await Promise.all(clients.map((c) => c.client.endAsync().catch(() => {})));
    await bench.stop();
  }
}
