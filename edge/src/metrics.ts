import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { RejectReason } from '@warden/contract';

export interface MetricSources {
  backlog(): number;
  /** Records shed from the full outbox since it was created, per class. */
  shed?(): Readonly<Record<'telemetry' | 'routine', number>>;
  hubConnected(): boolean;
  devicesOnline(): number;
}

/**
 * One registry per agent, so several agents in one process (tests, the local demo) keep separate
 * numbers. Counters are mirrored in plain maps so the status heartbeat can read them synchronously.
 */
export class EdgeMetrics {
  readonly registry = new Registry();
  private readonly rejectedC: Counter<'reason'>;
  private readonly recordsC: Counter<'kind'>;
  private readonly commandsC: Counter<'result'>;
  private readonly batchesC: Counter;
  private readonly resendsC: Counter;
  private readonly priorityC: Counter<'outcome'>;
  private readonly clockC: Counter;
  private readonly redeliveryC: Counter;
  private readonly totals = new Map<string, number>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.rejectedC = new Counter({ name: 'warden_edge_rejected_total', help: 'Field or hub messages refused, by reason', labelNames: ['reason'], registers });
    this.recordsC = new Counter({ name: 'warden_edge_records_total', help: 'Records committed to the outbox, by kind', labelNames: ['kind'], registers });
    this.commandsC = new Counter({ name: 'warden_edge_commands_total', help: 'Commands from the hub, by outcome', labelNames: ['result'], registers });
    this.batchesC = new Counter({ name: 'warden_edge_batches_sent_total', help: 'Uplink batches published to the hub', registers });
    this.resendsC = new Counter({ name: 'warden_edge_resends_total', help: 'Times the hub link went back to the oldest unacknowledged record', registers });
    this.priorityC = new Counter({ name: 'warden_edge_priority_batches_total', help: 'Priority-lane uplink batches (safety records ahead of the backlog): sent, acked, resent, abandoned (never acked: sent on the bulk stream instead)', labelNames: ['outcome'], registers });
    this.redeliveryC = new Counter({
      name: 'warden_edge_field_redeliveries_total',
      help: 'Device publishes resent after a lost acknowledgement and recognised as already stored',
      registers,
    });
    this.clockC = new Counter({
      name: 'warden_edge_clock_fallback_total',
      help: 'Records whose device time was implausible and replaced by gateway time',
      registers,
    });
    new Gauge({
      name: 'warden_edge_backlog',
      help: 'Records in the outbox not yet acknowledged by the hub',
      registers,
      collect() {
        this.set(sources.backlog());
      },
    });
    new Counter({
      name: 'warden_edge_outbox_shed_total',
      help: 'Records shed from the full outbox (oldest telemetry first, then routine events; safety events never), by class; kept in the outbox file',
      labelNames: ['class'],
      registers,
      collect() {
        const counts = sources.shed?.() ?? { telemetry: 0, routine: 0 };
        this.reset();
        for (const [cls, n] of Object.entries(counts)) this.inc({ class: cls }, n);
      },
    });
    new Gauge({
      name: 'warden_edge_hub_connected',
      help: '1 while connected to the hub',
      registers,
      collect() {
        this.set(sources.hubConnected() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'warden_edge_devices_online',
      help: 'Configured devices currently online',
      registers,
      collect() {
        this.set(sources.devicesOnline());
      },
    });
  }

  private bump(key: string, n = 1): void {
    this.totals.set(key, (this.totals.get(key) ?? 0) + n);
  }

  rejected(reason: RejectReason): void {
    this.rejectedC.inc({ reason });
    this.bump(`rejected.${reason}`);
  }

  records(kind: 'event' | 'telemetry', n = 1): void {
    this.recordsC.inc({ kind }, n);
    this.bump(`records.${kind}`, n);
  }

  command(result: 'sent' | 'ok' | 'failed' | 'refused' | 'timeout'): void {
    this.commandsC.inc({ result });
    this.bump(`commands.${result}`);
  }

  batchSent(): void {
    this.batchesC.inc();
    this.bump('batches.sent');
  }

  resend(): void {
    this.resendsC.inc();
    this.bump('batches.resends');
  }

  priorityBatch(outcome: 'sent' | 'acked' | 'resent' | 'abandoned'): void {
    this.priorityC.inc({ outcome });
    this.bump(`priority.${outcome}`);
  }

  redelivery(): void {
    this.redeliveryC.inc();
    this.bump('field.redeliveries');
  }

  clockFallback(): void {
    this.clockC.inc();
    this.bump('records.clock_fallback');
  }

  /** Count of one counter key, e.g. `rejected.oversized`; 0 if it never happened. */
  get(key: string): number {
    return this.totals.get(key) ?? 0;
  }

  /** Every non-zero counter, for the status heartbeat (`counters`). */
  summary(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Prometheus text at GET /metrics. */
export async function serveMetrics(metrics: EdgeMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
