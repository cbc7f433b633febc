import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { Outbox, parseEdgeConfig, startEdgeAgent, type NewRecord } from '@warden/edge';
import { startBenchHub, storedEvents } from './bench-hub.ts';
import { fmt, printTable } from './stats.ts';

const GW = 'gw-uplink';
const PASSWORD = 'bench-gateway-password';
const DOORS = 200;
const METERS = 50;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/**
 * `npm run bench uplink-lane`: an edge agent whose outbox holds `backlog` routine records (door events from 200 doors and
 * meter readings from 50 meters, as a hub outage leaves them), then a forced door and a routine card event committed at
 * the same moment, behind the whole backlog. The hub (its own process) is up; the agent starts, i.e. the hub becomes
 * reachable. Timed from then to each probe's storage at the hub (its receive time, stamped when stored; the forced
 * door's alarm is raised in the same commit): the forced door goes through the edge's priority lane, the routine event
 * waits behind the backlog (the baseline, same run). Then the time until the outbox is drained (everything acknowledged).
 */
export async function benchUplinkLane(backlog = 100_000): Promise<void> {
  const loadAtStart = load();
  const registry = [
    ...Array.from({ length: DOORS }, (_, i) => ({ id: `door-r-${i}`, gateway: GW, kind: 'door', building: 'b1' })),
    ...Array.from({ length: METERS }, (_, i) => ({ id: `meter-r-${i}`, gateway: GW, kind: 'meter' })),
    { id: 'door-forced', gateway: GW, kind: 'door', building: 'b1' },
    { id: 'door-card', gateway: GW, kind: 'door', building: 'b1' },
  ];
  const bench = await startBenchHub('uplink-lane', [GW], registry, PASSWORD);
  let agent: Awaited<ReturnType<typeof startEdgeAgent>> | undefined;
  try {
    await bench.ready();
    const outboxPath = join(bench.dir, 'edge', `${GW}-outbox.db`);
    // The outage's backlog, then the two probes in one commit (the same moment).
    const now = Date.now();
    const ob = Outbox.open(outboxPath);
    const tFill = performance.now();
    for (let from = 0; from < backlog; from += 5000) {
      const chunk: NewRecord[] = [];
      for (let i = from; i < Math.min(backlog, from + 5000); i++) {
        const ts = now - backlog + i;
        chunk.push(i % 5 === 4 ? { device: `meter-r-${i % METERS}`, ts, kind: 'telemetry', metrics: { power_kw: i % 97 } } : { device: `door-r-${i % DOORS}`, ts, kind: 'event', type: i % 2 ? 'door.closed' : 'door.opened', data: { door: 1 } });
      }
      ob.append(chunk);
    }
    const [forced, card] = ob.append([
      { device: 'door-forced', ts: now, kind: 'event', type: 'door.forced', data: { door: 1 } },
      { device: 'door-card', ts: now, kind: 'event', type: 'access.granted', data: { method: 'card', credential: 'c-1' } },
    ]);
    const fillMs = performance.now() - tFill;
    const queued = ob.backlog();
    ob.close();

    const config = parseEdgeConfig(
      {
        gateway: { id: GW },
        hub: { url: bench.mqttUrl, password: PASSWORD, reconnectMs: 100 },
        field: { port: 0, requireAuth: false },
        outbox: { path: outboxPath },
        metrics: { enabled: false },
        devices: [{ id: 'door-card', driver: 'door-controller' }],
      },
      'bench',
      { env: {} },
    );
    const t0 = Date.now();
    agent = await startEdgeAgent(config, { logger: pino({ level: 'warn' }) });
    // The link-up moment, polled every millisecond until it comes (then the probes' storage is read from the hub's own
    // receive times, so the 5 ms polling below adds nothing to them).
    let linkUp = 0;
    while (!linkUp && Date.now() - t0 < 120_000) {
      if (agent.hubConnected()) linkUp = Date.now();
      else await new Promise((r) => setTimeout(r, 1));
    }
    let drained = 0;
    const db = new Database(join(bench.dir, 'hub', 'state.db'), { readonly: true, fileMustExist: true });
    const find = db.prepare('SELECT id, received_at AS at FROM events WHERE id IN (?, ?)');
    const stored = new Map<string, number>();
    const deadline = Date.now() + 30 * 60_000;
    while ((stored.size < 2 || drained === 0) && Date.now() < deadline) {
      if (stored.size < 2) for (const r of find.all(forced!.id, card!.id) as Array<{ id: string; at: number }>) stored.set(r.id, r.at);
      if (!drained && agent.backlog() === 0) drained = Date.now();
      await new Promise((r) => setTimeout(r, 5));
    }
    db.close();
    const from = linkUp || t0;
    const forcedMs = (stored.get(forced!.id) ?? NaN) - from;
    const cardMs = (stored.get(card!.id) ?? NaN) - from;
    const drainMs = drained - from;
    const metrics = await (await fetch(`${bench.base}/api/metrics`)).text();
    const hubLane = /^warden_hub_priority_batches_total (\S+)$/m.exec(metrics)?.[1] ?? '?';
    const storedTotal = await storedEvents(bench.base);
    console.log(
      `\nuplink-lane (load average ${loadAtStart} at the start, ${load()} at the end): hub as its own process, edge agent in this process; outbox ${fmt(queued, 0)} records (${fmt(backlog, 0)} routine: 4/5 door events from ${DOORS} doors, 1/5 readings from ${METERS} meters; filled in ${fmt(fillMs, 0)} ms), then a forced door and a routine card event in one commit behind it; timed from the hub link up (${fmt(linkUp ? linkUp - t0 : NaN, 0)} ms after the agent start; subscribed, ±1 ms) to each probe's storage at the hub (its receive time; the forced door's alarm is raised in the same commit)`,
    );
    printTable('edge uplink priority lane', [
      { metric: 'forced door stored (priority lane), ms', warden: fmt(forcedMs, 0), baseline: `${fmt(cardMs, 0)} (routine event, same moment)`, ratio: forcedMs >= 1 ? `${fmt(cardMs / forcedMs, 0)}×` : '-' },
      { metric: 'the same from the agent start (incl. connect), ms', warden: fmt(stored.get(forced!.id)! - t0, 0), baseline: fmt(stored.get(card!.id)! - t0, 0), ratio: '-' },
      { metric: 'backlog drained (all acknowledged), ms', warden: fmt(drainMs, 0), baseline: '-', ratio: '-' },
      { metric: 'drain rate, records/s', warden: fmt((queued / drainMs) * 1000, 0), baseline: '-', ratio: '-' },
      { metric: 'edge priority batches sent / acked', warden: `${agent.metrics.get('priority.sent')} / ${agent.metrics.get('priority.acked')}`, baseline: '-', ratio: '-' },
      { metric: 'hub priority batches / events stored', warden: `${hubLane} / ${fmt(storedTotal, 0)}`, baseline: '-', ratio: '-' },
    ]);
  } finally {
    await agent?.stop();
    await bench.stop();
  }
}
