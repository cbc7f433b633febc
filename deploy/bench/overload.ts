import { gatewayTopic, newId } from '@warden/contract';
import type { MqttClient } from 'mqtt';
import { io } from 'socket.io-client';
import { startBenchHub, storedEvents } from './bench-hub.ts';
import { fmt, printTable, rssMiB, summarize } from './stats.ts';

const LOAD_GATEWAYS = 4;
const LOAD_DOORS = 50;
const PROBE_DOORS = 4000;
const BATCH = 200;
const PASSWORD = 'bench-gateway-password';


/**
 * `npm run bench overload`: the hub as its own process. First its sustainable ingest rate (closed loop: each load
 * gateway keeps 4 batches unacknowledged). Then, at 1×, 2× and 4× that rate offered open loop for `seconds`, a probe
 * gateway sends 10 forced doors a second (priority lane) and 10 controller door.held_open a second (bulk path: the
 * same kind of alarm work, no priority); each probe raises a new alarm, timed to a console on socket.io. Then the
 * time until the backlog is stored.
 */
export async function benchOverload(seconds = 8): Promise<void> {
  const gws = Array.from({ length: LOAD_GATEWAYS }, (_, g) => `gw-load-${g}`);
  const registry = [
    ...gws.flatMap((gw, g) => Array.from({ length: LOAD_DOORS }, (_, i) => ({ id: `door-g${g}-${i}`, gateway: gw, kind: 'door', building: `b${g}` }))),
    ...Array.from({ length: PROBE_DOORS }, (_, i) => ({ id: `probe-${i}`, gateway: 'gw-probe', kind: 'door', building: 'probe' })),
  ];
  const bench = await startBenchHub('overload', [...gws, 'gw-probe'], registry, PASSWORD);
  const { base, hub } = bench;
  const clients: MqttClient[] = [];
  try {
    const token = await bench.ready();
    for (const gw of [...gws, 'gw-probe']) {
      clients.push(await bench.connectGateway(gw));
    }
    const probe = clients[LOAD_GATEWAYS]!;
    const seqs = new Map<string, number>();
    let n = 0;
    const publish = (c: MqttClient, gw: string, recs: Array<{ device: string; type: string; data: Record<string, unknown> }>) => {
      const ts = Date.now();
      let seq = seqs.get(gw) ?? 0;
      const records = recs.map((r) => ({ id: newId(ts), seq: ++seq, ts, kind: 'event', ...r }));
      seqs.set(gw, seq);
      c.publish(gatewayTopic(gw, 'up'), JSON.stringify({ v: 1, gw, records }), { qos: 1 });
    };
    const routine = (g: number) => {
      const out = [];
      for (let k = 0; k < BATCH; k++, n++) {
        const step = Math.floor(n / LOAD_DOORS) % 3;
        const device = `door-g${g}-${n % LOAD_DOORS}`;
        out.push(step === 0 ? { device, type: 'access.granted', data: { method: 'card', credential: `card-${n}` } } : { device, type: step === 1 ? 'door.opened' : 'door.closed', data: { door: 1 } });
      }
      return out;
    };

    // Sustainable rate, closed loop.
    const sustain = async (total: number) => {
      const per = Math.ceil(total / LOAD_GATEWAYS / BATCH);
      const t0 = performance.now();
      await Promise.all(
        gws.map(
          (gw, g) =>
            new Promise<void>((resolve) => {
              const c = clients[g]!;
              let sent = 0;
              const target = (seqs.get(gw) ?? 0) + per * BATCH;
              const onAck = (topic: string, msg: Buffer) => {
                if (topic !== gatewayTopic(gw, 'ack')) return;
                const upTo = (JSON.parse(msg.toString()) as { upTo: number }).upTo;
                if (upTo >= target) return (c.off('message', onAck), resolve());
                if (sent < per) (publish(c, gw, routine(g)), sent++);
              };
              c.on('message', onAck);
              for (; sent < Math.min(4, per); sent++) publish(c, gw, routine(g));
            }),
        ),
      );
      return (per * BATCH * LOAD_GATEWAYS) / ((performance.now() - t0) / 1000);
    };
    const rate = await sustain(40_000);

    const socket = io(base, { auth: { token }, transports: ['websocket'] });
    await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
    const sentAt = new Map<string, { t: number; lane: 'priority' | 'bulk' }>();
    const lat = { priority: [] as number[], bulk: [] as number[] };
    socket.on('alarm', (a: { device: string; count: number }) => {
      const s = a.count === 1 ? sentAt.get(a.device) : undefined;
      if (s) (lat[s.lane].push(performance.now() - s.t), sentAt.delete(a.device));
    });
    let probeN = 0;
    const rows = [];
    for (const mult of [1, 2, 4]) {
      lat.priority = [];
      lat.bulk = [];
      const before = await storedEvents(base);
      const offered = rate * mult;
      let sent = 0;
      let probes = 0;
      const t0 = performance.now();
      let g = 0;
      while (performance.now() - t0 < seconds * 1000) {
        const el = (performance.now() - t0) / 1000;
        while (sent + BATCH <= el * offered) {
          publish(clients[g]!, gws[g]!, routine(g));
          g = (g + 1) % LOAD_GATEWAYS;
          sent += BATCH;
        }
        while (probes < el * 20 && probeN < PROBE_DOORS) {
          const device = `probe-${probeN++}`;
          const lane = probes % 2 === 0 ? 'priority' : 'bulk';
          sentAt.set(device, { t: performance.now(), lane });
          publish(probe, 'gw-probe', [{ device, type: lane === 'priority' ? 'door.forced' : 'door.held_open', data: lane === 'priority' ? { door: 1 } : { seconds: 90 } }]);
          probes++;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      const offeredS = (performance.now() - t0) / 1000;
      const rss = rssMiB(hub.child.pid!);
      const deadline = Date.now() + 300_000;
      while ((await storedEvents(base)) - before < sent + probes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      const drain = (performance.now() - t0) / 1000 - offeredS;
      await new Promise((r) => setTimeout(r, 500));
      const p = summarize(lat.priority);
      const b = summarize(lat.bulk);
      rows.push(
        { metric: `${mult}× (${fmt(offered, 0)} ev/s offered, ${fmt(sent)} events): safety p50 / p99 (ms)`, warden: `${fmt(p.p50, 1)} / ${fmt(p.p99, 1)}`, baseline: `${fmt(b.p50, 1)} / ${fmt(b.p99, 1)} (bulk path)`, ratio: p.p99 < 100 ? 'met' : 'MISSED' },
        { metric: `${mult}×: backlog drained after the load (s)`, warden: drain.toFixed(1), baseline: `probes seen ${p.n + b.n}/${probes}`, ratio: '' },
        { metric: `${mult}×: hub RSS at the end of the load (MiB)`, warden: fmt(rss), baseline: '', ratio: '' },
      );
    }
    socket.close();
    // The hub's own part of the priority lane: message taken -> safety events stored (its histogram, whole run).
    const text = await (await fetch(`${base}/api/metrics`)).text();
    const buckets = [...text.matchAll(/^warden_hub_priority_store_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map((m) => ({ le: m[1]!, n: Number(m[2]) }));
    const count = buckets.at(-1)?.n ?? 0;
    const le = (q: number) => buckets.find((b) => b.n >= q * count)?.le ?? 'n/a';
    rows.push({ metric: 'hub side: taken -> safety events stored, p50 / p99 bucket (s)', warden: `<= ${le(0.5)} / <= ${le(0.99)}`, baseline: `${count} lifts`, ratio: '' });
    printTable(`overload: hub as its own process, sustainable rate ${fmt(rate, 0)} events/s (closed loop, same run); ${seconds} s per level, 10 forced doors/s (priority) + 10 door.held_open/s (bulk path) to a console on socket.io`, rows);
  } finally {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => {})));
    await bench.stop();
  }
}
