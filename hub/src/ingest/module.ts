import type { Client } from 'aedes';
import { Counter } from 'prom-client';
import { allGatewaysTopic, parseGatewayTopic, type GatewayChannel } from '@warden/contract';
import { durationMs } from '../config.ts';
import { startedOr, type HubContext, type HubModule } from '../module.ts';
import { Ingestor } from './ingestor.ts';

const INGESTED: readonly GatewayChannel[] = ['up', 'status', 'inventory'];
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Ingest as a hub module: what gateways publish on `up`, `status` and `inventory` goes through the Ingestor (validate,
 * deduplicate, store, acknowledge) and every stored fact onto the hub bus; gateway connects and disconnects set
 * availability. Telemetry record ids older than the dedupe window are forgotten hourly.
 *
 * Stopping stops taking messages (an uplink arriving later is not acknowledged, so the gateway sends it again) and
 * waits until what was taken is stored. The broker closes after the modules, so it stays the last word.
 */
export class IngestModule implements HubModule {
  readonly name = 'ingest';
  private ingestor_: Ingestor | undefined;
  private prune: NodeJS.Timeout | undefined;
  private stopped = false;
  private unhook: (() => void) | undefined;

  /** `gatewayOf`: the gateway a connected MQTT client authenticated as (the broker policy). */
  constructor(private readonly gatewayOf: (client: Client) => string | undefined) {}

  get ingestor(): Ingestor {
    return startedOr(this.ingestor_, this.name);
  }

  async start(ctx: HubContext): Promise<void> {
    const { broker, stores, log, clock } = ctx;
    // The hub's own registry (config devices.registry): adopted before any gateway speaks, whatever inventories say.
    for (const d of ctx.config.devices.registry) {
      const before = stores.devices.get(d.id);
      const after = stores.devices.register({ ...d }, clock());
      if (!before || before.status !== 'adopted' || before.kind !== after.kind || before.building !== after.building || before.zone !== after.zone || before.gateway !== after.gateway) {
        stores.audit.record('config', 'device.adopt', d.id, { gateway: d.gateway, kind: d.kind, building: d.building ?? null, zone: d.zone ?? null });
      }
    }
    const ingestor = new Ingestor({
      ...stores,
      metrics: ctx.metrics,
      log,
      bus: ctx.bus,
      autoRegister: ctx.config.devices.autoRegister,
      publish: (topic, payload, qos) => broker.publish(topic, payload, { qos }),
      clock,
      bounds: {
        maxBacklogBytes: ctx.config.ingest.maxBacklogBytes,
        maxGatewayBacklogBytes: ctx.config.ingest.maxGatewayBacklogBytes,
        maxRecordsPerTurn: ctx.config.ingest.maxRecordsPerTurn,
      },
    });
    this.ingestor_ = ingestor;
    // An uplink that could not be stored (disk full, I/O error) is left unacknowledged, so the gateway keeps and resends it.
    const writeFailures = new Counter({ name: 'warden_hub_store_write_failures_total', help: 'Uplinks that could not be stored (e.g. disk full) and were left unacknowledged for the gateway to resend', registers: [ctx.metrics.registry] });
    for (const channel of INGESTED) {
      await broker.subscribe(allGatewaysTopic(channel), async (packet) => {
        const t = parseGatewayTopic(packet.topic);
        if (!t || this.stopped) return;
        if (t.channel !== 'up') return void (await ingestor.handle(t.gatewayId, t.channel, packet.payload as Buffer));
        // Uplinks: taken at once (their safety events enter the priority lane now), stored in the background in
        // gateway order, acknowledged when stored; the broker waits only while the taken backlog is over its bound.
        void ingestor.handle(t.gatewayId, t.channel, packet.payload as Buffer).catch((err: unknown) => {
          writeFailures.inc();
          log.error({ err, gateway: t.gatewayId }, 'uplink failed');
        });
        await ingestor.room(t.gatewayId);
      });
    }
    const connected = (client: Client) => {
      const gw = this.gatewayOf(client);
      if (gw && !this.stopped) void ingestor.gatewayConnected(gw);
    };
    const disconnected = (client: Client) => {
      const gw = this.gatewayOf(client);
      if (gw && !this.stopped && !broker.isConnected(gw)) void ingestor.gatewayDisconnected(gw);
    };
    broker.aedes.on('clientReady', connected);
    broker.aedes.on('clientDisconnect', disconnected);
    this.unhook = () => {
      broker.aedes.off('clientReady', connected);
      broker.aedes.off('clientDisconnect', disconnected);
    };

    const dedupWindow = durationMs(ctx.config.ingest.telemetryDedupWindow);
    this.prune = setInterval(() => {
      try {
        stores.telemetryIds.forgetBefore(clock() - dedupWindow);
      } catch (err) {
        log.error({ err }, 'pruning telemetry ids failed');
      }
    }, PRUNE_EVERY_MS);
    this.prune.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.prune);
    this.unhook?.();
    await this.ingestor_?.idle();
  }
}
