import { join } from 'node:path';
import Database from 'better-sqlite3';
import { gatewayTopic, newId, type LiveAuth, type LiveMessages } from '@warden/contract';
import { loadavg } from 'node:os';
import type { MqttClient } from 'mqtt';
import { io } from 'socket.io-client';
import { connectMqtt } from './clients.ts';
import { startBenchHub } from './bench-hub.ts';
import { fmt, printTable, rssMiB, summarize } from './stats.ts';

const GATEWAYS = 4;
const TURNSTILES = 50;
const PROBE_DOORS = 2000;
const BATCH = 200;
const IN_FLIGHT = 4;
const USES = 4;
const PASSWORD = 'bench-gateway-password';

type Rec = { device: string; type: string; data: Record<string, unknown> };

/**
 * Alarm-free traffic: each card used once (no rule fires). Storm traffic: each card enters USES times at USES
 * different turnstiles of its building without an exit, so 3 of every 4 events raise a distinct anti-passback
 * alarm (the storm, 3 alarms per 4 events).
 */
function record(phase: 'free' | 'storm', g: number, i: number): Rec {
  if (phase === 'free') return { device: `ts-g${g}-${i % TURNSTILES}`, type: 'access.granted', data: { method: 'card', credential: `free-g${g}-${i}`, direction: 'in' } };
  const card = Math.floor(i / USES);
  const use = i % USES;
  return { device: `ts-g${g}-${(card + use * 7) % TURNSTILES}`, type: 'access.granted', data: { method: 'card', credential: `storm-g${g}-${card}`, direction: 'in' } };
}

/** Each gateway keeps IN_FLIGHT batches unacknowledged and sends the next as the hub acknowledges (as the edge does). */
async function drive(clients: MqttClient[], phase: 'free' | 'storm', perGw: number, seq0: number[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    clients.map(
      (c, g) =>
        new Promise<void>((resolve) => {
          const gw = `gw-storm-${g}`;
          const first = seq0[g]! + 1;
          const last = seq0[g]! + perGw;
          let next = first;
          const send = () => {
            if (next > last) return;
            const ts = Date.now();
            const records = [];
            for (let k = 0; k < BATCH && next <= last; k++, next++) records.push({ id: newId(ts), seq: next, ts, kind: 'event', ...record(phase, g, next - first) });
            c.publish(gatewayTopic(gw, 'up'), JSON.stringify({ v: 1, gw, records }), { qos: 1 });
          };
          const onAck = (topic: string, msg: Buffer) => {
            if (topic !== gatewayTopic(gw, 'ack')) return;
            const upTo = (JSON.parse(msg.toString()) as { upTo: number }).upTo;
            if (upTo >= last) {
              c.off('message', onAck);
              seq0[g] = last;
              return resolve();
            }
            while (next <= last && next - 1 - upTo < IN_FLIGHT * BATCH) send();
          };
          c.on('message', onAck);
          for (let k = 0; k < IN_FLIGHT; k++) send();
        }),
    ),
  );
  return (perGw * clients.length) / ((performance.now() - t0) / 1000);
}

/**
 * `npm run bench storm`: the hub as its own process; 4 gateways × 50 turnstiles (one building each). In one run:
 * the alarm-free ingest rate, then a storm of distinct anti-passback alarms at full speed, with a console on
 * socket.io and a probe gateway sending a forced door (a new alarm each) 20 times a second during the storm.
 */
export async function benchStorm(events = 80_000): Promise<void> {
  const loadAtStart = loadavg()[0]!.toFixed(2);
  const gws = Array.from({ length: GATEWAYS }, (_, g) => `gw-storm-${g}`);
  const registry = [
    ...gws.flatMap((gw, g) => Array.from({ length: TURNSTILES }, (_, i) => ({ id: `ts-g${g}-${i}`, gateway: gw, kind: 'turnstile', building: `b${g}` }))),
    ...Array.from({ length: PROBE_DOORS }, (_, i) => ({ id: `probe-${i}`, gateway: 'gw-probe', kind: 'door', building: 'probe' })),
  ];
  const bench = await startBenchHub('storm', [...gws, 'gw-probe'], registry, PASSWORD);
  const { dir, base, mqttUrl, hub } = bench;
  const clients: MqttClient[] = [];
  let maxRss = 0;
  const sampler = setInterval(() => {
    try {
      maxRss = Math.max(maxRss, rssMiB(hub.child.pid!));
    } catch {
      // exited
    }
  }, 200);
  try {
    const token = await bench.ready();
    for (const gw of gws) {
      clients.push(await bench.connectGateway(gw));
    }
    const probe = await connectMqtt(mqttUrl, { clientId: 'warden-edge-gw-probe', username: 'gw-probe', password: PASSWORD });
    clients.push(probe);
    // Connected as the console is: the coalesced feed (routine events in batches, alarm updates merged).
    const auth: LiveAuth = { token, feed: 'coalesced' };
    const socket = io(base, { auth, transports: ['websocket'] });
    await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
    const sentAt = new Map<string, number>();
    const lat: number[] = [];
    let alarmMsgs = 0;
    let batches = 0;
    let skipped = 0;
    socket.on('events', (b: LiveMessages['events']) => ((batches += 1), (skipped += b.skipped)));
    socket.on('alarm', (a: LiveMessages['alarm']) => {
      alarmMsgs++;
      const t = a.type === 'door.forced' && a.count === 1 ? sentAt.get(a.device) : undefined;
      if (t !== undefined) (lat.push(performance.now() - t), sentAt.delete(a.device));
    });

    const perGw = Math.ceil(events / GATEWAYS / BATCH) * BATCH;
    const seq0 = gws.map(() => 0);
    const bulk = clients.slice(0, GATEWAYS);
    const freeRate = await drive(bulk, 'free', perGw, seq0);
    const rssFree = maxRss;
    let probed = 0;
    let probeSeq = 0;
    const probeTimer = setInterval(() => {
      if (probed >= PROBE_DOORS) return;
      const device = `probe-${probed++}`;
      const ts = Date.now();
      sentAt.set(device, performance.now());
      probe.publish(gatewayTopic('gw-probe', 'up'), JSON.stringify({ v: 1, gw: 'gw-probe', records: [{ id: newId(ts), seq: ++probeSeq, ts, device, kind: 'event', type: 'door.forced', data: { door: 1 } }] }), { qos: 1 });
    }, 50);
    const stormT0 = performance.now();
    const stormRate = await drive(bulk, 'storm', perGw, seq0);
    const stormS = (performance.now() - stormT0) / 1000;
    clearInterval(probeTimer);
    const deadline = Date.now() + 30_000;
    while (lat.length < probed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500));
    socket.close();
    const expected = GATEWAYS * (perGw / USES) * (USES - 1);
    const db = new Database(join(dir, 'hub', 'state.db'), { readonly: true });
    const counts = db
      .prepare("SELECT count(*) AS rows, coalesce(sum(count), 0) AS findings, coalesce(sum(CASE WHEN device LIKE 'storm:%' THEN count ELSE 0 END), 0) AS folded FROM alarms WHERE type = 'turnstile.antipassback'")
      .get() as { rows: number; findings: number; folded: number };
    db.close();
    const p = summarize(lat);
    printTable(`alarm storm (load average ${loadAtStart} at the start, ${loadavg()[0]!.toFixed(2)} at the end): hub as its own process, ${GATEWAYS} gateways × ${TURNSTILES} turnstiles, ${fmt(perGw * GATEWAYS)} events per phase, batches of ${BATCH}, ${IN_FLIGHT} in flight; a console on socket.io (coalesced feed); ${probed} forced-door probes at 20/s during the storm`, [
      { metric: 'ingest events/s during the storm', warden: fmt(stormRate), baseline: `${fmt(freeRate)} (same run, alarm-free)`, ratio: (stormRate / freeRate).toFixed(2) },
      { metric: 'alarm findings/s during the storm', warden: fmt(counts.findings / stormS), baseline: '5,000 (target)', ratio: '' },
      { metric: 'ratio target (storm / alarm-free >= 0.5)', warden: stormRate / freeRate >= 0.5 ? 'met' : 'MISSED', baseline: '0.18 (issue, before)', ratio: '' },
      { metric: 'alarm findings stored (sum of counts)', warden: fmt(counts.findings), baseline: `${fmt(expected)} expected`, ratio: counts.findings === expected ? 'none lost' : 'MISMATCH' },
      { metric: '  as alarms of their own (device first)', warden: fmt(counts.rows), baseline: '', ratio: '' },
      { metric: '  counted in building storm alarms', warden: fmt(counts.folded), baseline: '', ratio: '' },
      { metric: "socket.io 'alarm' messages to the console", warden: fmt(alarmMsgs), baseline: '', ratio: '' },
      { metric: "console: 'events' batches / events skipped", warden: String(batches), baseline: String(skipped), ratio: '' },
      { metric: 'forced door -> console p50 during the storm (ms)', warden: fmt(p.p50, 2), baseline: '', ratio: '' },
      { metric: 'forced door -> console p99 during the storm (ms)', warden: fmt(p.p99, 2), baseline: '200 (target)', ratio: p.p99 < 200 ? 'met' : 'MISSED' },
      { metric: 'probes lost', warden: String(probed - lat.length), baseline: '0', ratio: '' },
      { metric: 'hub RSS max (MiB)', warden: fmt(maxRss), baseline: `${fmt(rssFree)} (after alarm-free phase); 600 target`, ratio: maxRss < 600 ? 'met' : 'MISSED' },
    ]);
  } finally {
    clearInterval(sampler);
    await Promise.all(clients.map((c) => c.endAsync().catch(() => {})));
    await bench.stop();
  }
}
