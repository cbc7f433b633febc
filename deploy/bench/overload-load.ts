import { parentPort, workerData } from 'node:worker_threads';
import { gatewayTopic, newId } from '@warden/contract';
import type { MqttClient } from 'mqtt';
import { connectMqtt } from './clients.ts';

/**
 * The overload bench's load generator, in a worker thread (overload.ts starts it) so that the thread timing the alarms
 * does nothing else. It is the load gateways: routine door traffic, and probes placed in the middle of their batches
 * (a forced door in the middle of a busy gateway's stream), each reported to the measuring thread with its send time.
 */
export interface LoadSetup {
  mqttUrl: string;
  gateways: string[];
  password: string;
  batch: number;
  loadDoors: number;
  /** A gateway with no load of its own: its forced doors go as the edge sends them, in priority-lane batches. */
  quiet: string;
}

export type LoadCommand = { cmd: 'sustain'; total: number } | { cmd: 'offer'; rate: number; seconds: number; probesPerSecond: number } | { cmd: 'stop' };
export type LoadReply =
  | { type: 'ready' }
  | { type: 'sustained'; rate: number }
  | { type: 'probe'; device: string; lane: 'priority' | 'bulk' | 'quiet'; at: number }
  | { type: 'offered'; sent: number; probes: number; seconds: number }
  | { type: 'stopped' };

/** Wall time in ms with sub-ms resolution, comparable between threads. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

type Rec = { device: string; type: string; data: Record<string, unknown> };

async function main(): Promise<void> {
  const port = parentPort!;
  const setup = workerData as LoadSetup;
  const post = (r: LoadReply) => port.postMessage(r);
  const clients: MqttClient[] = [];
  for (const gw of setup.gateways) {
    const c = await connectMqtt(setup.mqttUrl, { clientId: `warden-edge-${gw}`, username: gw, password: setup.password });
    await c.subscribeAsync(gatewayTopic(gw, 'ack'), { qos: 1 });
    clients.push(c);
  }
  const quiet = await connectMqtt(setup.mqttUrl, { clientId: `warden-edge-${setup.quiet}`, username: setup.quiet, password: setup.password });
  let quietSeq = 0;
  let quietN = 0;
  const seqs = setup.gateways.map(() => 0);
  let n = 0;
  let probeN = 0;
  const publish = (g: number, recs: Rec[]) => {
    const ts = Date.now();
    const records = recs.map((r) => ({ id: newId(ts), seq: ++seqs[g]!, ts, kind: 'event', ...r }));
    clients[g]!.publish(gatewayTopic(setup.gateways[g]!, 'up'), JSON.stringify({ v: 1, gw: setup.gateways[g], records }), { qos: 1 });
  };
  const routine = (g: number): Rec[] => {
    const out: Rec[] = [];
    for (let k = 0; k < setup.batch; k++, n++) {
      const step = Math.floor(n / setup.loadDoors) % 3;
      const device = `door-g${g}-${n % setup.loadDoors}`;
      out.push(step === 0 ? { device, type: 'access.granted', data: { method: 'card', credential: `card-${n}` } } : { device, type: step === 1 ? 'door.opened' : 'door.closed', data: { door: 1 } });
    }
    return out;
  };

  // Closed loop: each gateway keeps 4 batches unacknowledged (as the edge does) until `total` events are stored.
  const sustain = async (total: number): Promise<number> => {
    const per = Math.ceil(total / clients.length / setup.batch);
    const t0 = performance.now();
    await Promise.all(
      clients.map(
        (c, g) =>
          new Promise<void>((resolve) => {
            const gw = setup.gateways[g]!;
            let sent = 0;
            const target = seqs[g]! + per * setup.batch;
            const onAck = (topic: string, msg: Buffer) => {
              if (topic !== gatewayTopic(gw, 'ack')) return;
              const upTo = (JSON.parse(msg.toString()) as { upTo?: number }).upTo ?? 0;
              if (upTo >= target) return (c.off('message', onAck), resolve());
              if (sent < per) (publish(g, routine(g)), sent++);
            };
            c.on('message', onAck);
            for (; sent < Math.min(4, per); sent++) publish(g, routine(g));
          }),
      ),
    );
    return (per * setup.batch * clients.length) / ((performance.now() - t0) / 1000);
  };

  // Open loop at `rate` events/s; `probesPerSecond` probes, alternately a forced door (priority lane) and a
  // door.held_open (the same kind of alarm work on the bulk path), each in the middle of the next load batch.
  const offer = async (rate: number, seconds: number, probesPerSecond: number) => {
    let sent = 0;
    let probes = 0;
    let g = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      const el = (performance.now() - t0) / 1000;
      while (sent + setup.batch <= el * rate) {
        const recs = routine(g);
        if (probes < el * probesPerSecond) {
          const lane = probes % 2 === 0 ? 'priority' : 'bulk';
          const device = `probe-g${g}-${probeN++}`;
          recs.splice(recs.length >> 1, 0, lane === 'priority' ? { device, type: 'door.forced', data: { door: 1 } } : { device, type: 'door.held_open', data: { seconds: 90 } });
          probes++;
          publish(g, recs);
          post({ type: 'probe', device, lane, at: wallNow() });
          // And, as often, a forced door from the quiet gateway in a priority-lane batch of its own.
          const qd = `probe-q-${quietN++}`;
          const ts = Date.now();
          const record = { id: newId(ts), seq: ++quietSeq, ts, kind: 'event', device: qd, type: 'door.forced', data: { door: 1 } };
          quiet.publish(gatewayTopic(setup.quiet, 'up'), JSON.stringify({ v: 1, gw: setup.quiet, lane: 'priority', records: [record] }), { qos: 1 });
          post({ type: 'probe', device: qd, lane: 'quiet', at: wallNow() });
        } else publish(g, recs);
        g = (g + 1) % clients.length;
        sent += recs.length;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return { sent, probes, seconds: (performance.now() - t0) / 1000 };
  };

  port.on('message', (m: LoadCommand) => {
    void (async () => {
      if (m.cmd === 'sustain') post({ type: 'sustained', rate: await sustain(m.total) });
      else if (m.cmd === 'offer') post({ type: 'offered', ...(await offer(m.rate, m.seconds, m.probesPerSecond)) });
      else {
        await Promise.all([...clients, quiet].map((c) => c.endAsync().catch(() => {})));
        post({ type: 'stopped' });
        port.close();
      }
    })();
  });
  post({ type: 'ready' });
}

// Imported by overload.ts for its types and wallNow too: only a worker runs the load.
if (parentPort) void main();
