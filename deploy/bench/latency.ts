import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectMqtt, startRawBroker } from './clients.ts';
import { io } from 'socket.io-client';
import { freePort, runWarden, eventually } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { writeSystemLayout } from '../src/layout.ts';
import { fmt, printTable, rssMiB, summarize } from './stats.ts';

const DEVICES = 10;


/** Publishes `count` messages at `rate`/s, spread over the clients, calling `make(i)` for each. */
async function paced(clients: MqttClient[], rate: number, count: number, make: (i: number) => { topic: string; payload: string }, sentAt: Map<number, number>): Promise<void> {
  const interval = 1000 / rate;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const { topic, payload } = make(i);
    sentAt.set(i, performance.now());
    clients[i % clients.length]!.publish(topic, payload, { qos: 1 });
  }
}

async function wardenLatency(rate: number, count: number): Promise<{ lat: number[]; rss: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-latency-'));
  const [httpPort, mqttPort, fieldPort] = [await freePort(), await freePort(), await freePort()];
  const plan = {
    gateways: [
      {
        id: 'gw-bench',
        name: 'Bench',
        building: 'bench',
        devices: Array.from({ length: DEVICES }, (_, i) => ({ id: `door-b${i}`, driver: 'door-controller', kind: 'door' as const, name: `Door ${i}`, building: 'bench' })),
      },
    ],
  };
  const layout = writeSystemLayout(plan, { dataDir: dir, httpPort, mqttPort, fieldPortBase: fieldPort, adminPassword: 'bench-admin-password' });
  const hub = runWarden(['hub', '--config', layout.hubConfig], { LOG_LEVEL: 'warn' });
  const edge = runWarden(['edge', '--config', layout.edgeConfigs.get('gw-bench')!], { LOG_LEVEL: 'warn' });
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    await waitForHttp(`${base}/api/health`);
    const login = (await (await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }) })).json()) as { token: string };
    const socket = io(base, { auth: { token: login.token }, transports: ['websocket'] });
    await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
    const devices = await Promise.all(Array.from({ length: DEVICES }, (_, i) => connectMqtt(`mqtt://127.0.0.1:${fieldPort}`, { clientId: `door-b${i}`, username: `door-b${i}`, password: layout.deviceSecrets[`door-b${i}`]! })));
    await eventually(async () => {
      const r = (await (await fetch(`${base}/api/devices?gateway=gw-bench`, { headers: { authorization: `Bearer ${login.token}` } })).json()) as { devices: Array<{ online: boolean }> };
      return r.devices.filter((d) => d.online).length === DEVICES;
    }, 30_000, 'bench devices online');
    const sentAt = new Map<number, number>();
    const lat: number[] = [];
    let rss = NaN;
    socket.on('event', (e: { type: string; data: { credential?: string } }) => {
      if (e.type !== 'access.granted' || !e.data.credential) return;
      const i = Number(e.data.credential);
      const t = sentAt.get(i);
      if (t !== undefined) lat.push(performance.now() - t);
    });
    const warm = Math.min(200, count / 10);
    await paced(devices, rate, count + warm, (i) => ({ topic: `acs/door-b${i % DEVICES}/event`, payload: JSON.stringify({ event: 'CARD_GRANTED', door: 1, card: String(i), time: new Date().toISOString() }) }), sentAt);
    rss = rssMiB(hub.child.pid!);
    await eventually(() => lat.length >= count + warm, 30_000, 'all events on socket.io');
    socket.close();
    await Promise.all(devices.map((d) => d.endAsync()));
    return { lat: lat.slice(warm), rss };
  } finally {
    await edge.stop();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rawLatency(rate: number, count: number): Promise<number[]> {
  const { url, child } = await startRawBroker();
  const sub = await connectMqtt(url, { clientId: 'sub' });
  await sub.subscribeAsync('acs/+/event', { qos: 1 });
  const pubs = await Promise.all(Array.from({ length: DEVICES }, (_, i) => connectMqtt(url, { clientId: `door-b${i}` })));
  const sentAt = new Map<number, number>();
  const lat: number[] = [];
  sub.on('message', (_t, m) => {
    const i = Number((JSON.parse(m.toString()) as { card: string }).card);
    lat.push(performance.now() - sentAt.get(i)!);
  });
  const warm = Math.min(200, count / 10);
  await paced(pubs, rate, count + warm, (i) => ({ topic: `acs/door-b${i % DEVICES}/event`, payload: JSON.stringify({ event: 'CARD_GRANTED', door: 1, card: String(i), time: new Date().toISOString() }) }), sentAt);
  await eventually(() => lat.length >= count + warm, 30_000, 'raw deliveries');
  await Promise.all([...pubs, sub].map((c) => c.endAsync()));
  child.kill('SIGTERM');
  return lat.slice(warm);
}

export async function benchLatency(rate = 500, seconds = 10): Promise<void> {
  const count = rate * seconds;
  const w = await wardenLatency(rate, count);
  const raw = await rawLatency(rate, count);
  const ws = summarize(w.lat);
  const rs = summarize(raw);
  printTable(`device publish -> socket.io client at ${rate} events/s for ${seconds} s (${fmt(count, 0)} events)`, [
    { metric: 'latency p50 (ms)', warden: fmt(ws.p50, 2), baseline: fmt(rs.p50, 2) + ' (raw aedes pub->sub)', ratio: (ws.p50 / rs.p50).toFixed(1) },
    { metric: 'latency p99 (ms)', warden: fmt(ws.p99, 2), baseline: fmt(rs.p99, 2), ratio: (ws.p99 / rs.p99).toFixed(1) },
    { metric: 'latency max (ms)', warden: fmt(ws.max, 2), baseline: fmt(rs.max, 2), ratio: '' },
    { metric: 'hub RSS at this load (MiB)', warden: fmt(w.rss), baseline: '', ratio: '' },
  ]);
}
