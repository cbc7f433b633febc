import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { LiveAuth, LiveMessages } from '@warden/contract';
import { io } from 'socket.io-client';
import { startBenchHub, storedEvents } from './bench-hub.ts';
import { wallNow, type LoadCommand, type LoadReply, type LoadSetup } from './overload-load.ts';
import { fmt, printTable, rssMiB, summarize } from './stats.ts';

const LOAD_GATEWAYS = 4;
const LOAD_DOORS = 50;
/** Probe doors per load gateway (each probe is a new door, so a new alarm). */
const PROBE_DOORS = 1000;
const BATCH = 200;
const PROBES_PER_SECOND = 20;
const PASSWORD = 'bench-gateway-password';

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The hub's longest event-loop delay since the previous scrape (prom-client default metrics), in ms. */
async function hubLoopLagMaxMs(base: string): Promise<number | null> {
  const text = await (await fetch(`${base}/api/metrics`)).text();
  const m = /^warden_hub_process_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : null;
}

/** The load generator in a worker thread (overload-load.ts), run through tsx like this process. */
function startLoad(setup: LoadSetup): { worker: Worker; ask(cmd: LoadCommand | null, until: LoadReply['type']): Promise<LoadReply> } {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./overload-load.ts', import.meta.url).href;
  const worker = new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { eval: true, workerData: setup });
  return {
    worker,
    ask: (cmd, until) =>
      new Promise((resolve, reject) => {
        const on = (r: LoadReply) => {
          if (r.type !== until) return;
          worker.off('message', on);
          worker.off('error', reject);
          resolve(r);
        };
        worker.on('message', on);
        worker.once('error', reject);
        if (cmd) worker.postMessage(cmd);
      }),
  };
}

/**
 * `npm run bench overload`: the hub as its own process; the load in a worker thread (4 gateways × 50 doors, batches of
 * 200); this thread only watches a console connection (socket.io, coalesced feed as the console takes it). First the
 * hub's sustainable ingest rate (closed loop, same run). Then at 1×, 2× and 4× that rate offered open loop for `seconds`,
 * 20 probes a second placed in the middle of the load gateways' batches: alternately a forced door (a safety event: the
 * priority lane) and a door.held_open (an alarm that is not a priority type: the bulk path), each a new alarm, timed
 * from the device publish to the alarm on the console. Then the time until the backlog is stored.
 */
export async function benchOverload(seconds = 8): Promise<void> {
  const loadAtStart = load();
  const gws = Array.from({ length: LOAD_GATEWAYS }, (_, g) => `gw-load-${g}`);
  const quiet = 'gw-quiet';
  const registry = [
    ...gws.flatMap((gw, g) => [
      ...Array.from({ length: LOAD_DOORS }, (_, i) => ({ id: `door-g${g}-${i}`, gateway: gw, kind: 'door', building: `b${g}` })),
      ...Array.from({ length: PROBE_DOORS }, (_, i) => ({ id: `probe-g${g}-${i}`, gateway: gw, kind: 'door', building: `b${g}` })),
    ]),
    ...Array.from({ length: PROBE_DOORS * 2 }, (_, i) => ({ id: `probe-q-${i}`, gateway: quiet, kind: 'door', building: 'bq' })),
  ];
  const bench = await startBenchHub('overload', [...gws, quiet], registry, PASSWORD);
  const { base, hub, mqttUrl } = bench;
  let gen: ReturnType<typeof startLoad> | undefined;
  try {
    const token = await bench.ready();
    gen = startLoad({ mqttUrl, gateways: gws, password: PASSWORD, batch: BATCH, loadDoors: LOAD_DOORS, quiet });
    await gen.ask(null, 'ready');
    const rate = ((await gen.ask({ cmd: 'sustain', total: 40_000 }, 'sustained')) as { rate: number }).rate;

    const auth: LiveAuth = { token, feed: 'coalesced' };
    const socket = io(base, { auth, transports: ['websocket'] });
    await new Promise<void>((resolve, reject) => (socket.once('connect', () => resolve()), socket.once('connect_error', reject)));
    // Arrival times by device; joined with the worker's send times at the end of each level.
    const arrived = new Map<string, number>();
    socket.on('alarm', (a: LiveMessages['alarm']) => {
      if (a.count === 1 && a.device.startsWith('probe-') && !arrived.has(a.device)) arrived.set(a.device, wallNow());
    });
    let batches = 0;
    let skipped = 0;
    socket.on('events', (b: LiveMessages['events']) => ((batches += 1), (skipped += b.skipped)));
    const probesSent: Array<{ device: string; lane: 'priority' | 'bulk' | 'quiet'; at: number }> = [];
    gen.worker.on('message', (r: LoadReply) => {
      if (r.type === 'probe') probesSent.push(r);
    });

    const rows = [];
    for (const mult of [1, 2, 4]) {
      probesSent.length = 0;
      const before = await storedEvents(base);
      const offered = rate * mult;
      const t0 = performance.now();
      // The hub's event-loop delay while loaded (its own metric; each scrape resets the window): where the time goes.
      const lags: number[] = [];
      const sampler = setInterval(() => void hubLoopLagMaxMs(base).then((ms) => ms !== null && lags.push(ms)), 1000);
      const done = (await gen.ask({ cmd: 'offer', rate: offered, seconds, probesPerSecond: PROBES_PER_SECOND }, 'offered')) as { sent: number; probes: number; seconds: number };
      clearInterval(sampler);
      const offeredS = (performance.now() - t0) / 1000;
      const rss = rssMiB(hub.child.pid!);
      const deadline = Date.now() + 300_000;
      while ((await storedEvents(base)) - before < done.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      const drain = (performance.now() - t0) / 1000 - offeredS;
      await new Promise((r) => setTimeout(r, 500));
      const lat = { priority: [] as number[], bulk: [] as number[], quiet: [] as number[] };
      for (const p of probesSent) {
        const at = arrived.get(p.device);
        if (at !== undefined) lat[p.lane].push(at - p.at);
      }
      const p = summarize(lat.priority);
      const b = summarize(lat.bulk);
      const q = summarize(lat.quiet);
      rows.push(
        { metric: `${mult}× (${fmt(offered, 0)} ev/s asked, ${fmt(done.sent / done.seconds, 0)} sent): safety p50 / p99 (ms)`, warden: `${fmt(p.p50, 1)} / ${fmt(p.p99, 1)}`, baseline: `${fmt(b.p50, 1)} / ${fmt(b.p99, 1)} (bulk path)`, ratio: p.p99 < 100 ? 'met' : 'MISSED' },
        { metric: `${mult}×: safety from a quiet gateway (priority-lane batch) p50 / p99 (ms)`, warden: `${fmt(q.p50, 1)} / ${fmt(q.p99, 1)}`, baseline: `probes seen ${q.n}/${done.probes}`, ratio: q.p99 < 100 ? 'met' : 'MISSED' },
        { metric: `${mult}×: backlog drained after the load (s)`, warden: drain.toFixed(1), baseline: `probes seen ${p.n}+${b.n}/${done.probes}`, ratio: '' },
        { metric: `${mult}×: hub RSS at the end of the load (MiB)`, warden: fmt(rss), baseline: '', ratio: '' },
        { metric: `${mult}×: hub event-loop delay, max per second: p50 / max (ms)`, warden: `${fmt(summarize(lags).p50, 0)} / ${fmt(summarize(lags).max, 0)}`, baseline: `${lags.length} samples`, ratio: '' },
      );
    }
    socket.close();
    // The hub's own part of the priority lane: message taken -> safety events stored (its histogram, whole run).
    const text = await (await fetch(`${base}/api/metrics`)).text();
    const buckets = [...text.matchAll(/^warden_hub_priority_store_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map((m) => ({ le: m[1]!, n: Number(m[2]) }));
    const count = buckets.at(-1)?.n ?? 0;
    const le = (q: number) => buckets.find((b) => b.n >= q * count)?.le ?? 'n/a';
    rows.push({ metric: 'hub side: taken -> safety events stored, p50 / p99 bucket (s)', warden: `<= ${le(0.5)} / <= ${le(0.99)}`, baseline: `${count} lifts`, ratio: '' });
    // One synchronous storage turn (one commit), whole run: the hub's own histogram (absent on a hub without it).
    const turns = [...text.matchAll(/^warden_hub_ingest_turn_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map((m) => ({ le: m[1]!, n: Number(m[2]) }));
    const tn = turns.at(-1)?.n ?? 0;
    const tle = (q: number) => turns.find((b) => b.n >= q * tn)?.le ?? 'n/a';
    rows.push({ metric: 'hub side: one storage turn, p50 / p99 / p99.9 bucket (s)', warden: `<= ${tle(0.5)} / <= ${tle(0.99)} / <= ${tle(0.999)}`, baseline: `${tn} turns`, ratio: '' });
    rows.push({ metric: 'console: event batches received / events skipped', warden: String(batches), baseline: String(skipped), ratio: '' });
    printTable(
      `overload (load average ${loadAtStart} at the start, ${load()} at the end): hub as its own process, load in a worker thread, sustainable rate ${fmt(rate, 0)} events/s (closed loop, same run); ${seconds} s per level; ${PROBES_PER_SECOND} probes/s inside the load batches, forced door (priority) / door.held_open (bulk path), device publish -> alarm on a coalesced console socket`,
      rows,
    );
  } finally {
    if (gen) {
      await gen.ask({ cmd: 'stop' }, 'stopped').catch(() => {});
      await gen.worker.terminate();
    }
    await bench.stop();
  }
}
