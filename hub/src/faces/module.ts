import { allGatewaysTopic, parseGatewayTopic } from '@warden/contract';
import { startedOr, type HubContext, type HubModule } from '../module.ts';
import { FaceAdmin } from './service.ts';

const RETENTION_EVERY_MS = 3_600_000;

/**
 * Faces as a hub module: enrolment and galleries (FaceAdmin), the gallery sync answering each gateway's retained
 * status with the deltas it is missing, and the hourly retention job. The models load on the first enrolment only.
 */
export class FacesModule implements HubModule {
  readonly name = 'faces';
  private admin_: FaceAdmin | undefined;
  private retention: NodeJS.Timeout | undefined;
  private stopped = false;

  get admin(): FaceAdmin {
    return startedOr(this.admin_, this.name);
  }

  async start(ctx: HubContext): Promise<void> {
    const { broker, log } = ctx;
    const admin = new FaceAdmin({
      db: ctx.stores.db,
      dataDir: ctx.config.dataDir,
      config: ctx.config.faces,
      audit: ctx.stores.audit,
      publish: (topic, payload) => broker.publish(topic, payload, { qos: 1 }),
      isConnected: (gw) => broker.isConnected(gw),
      registry: ctx.metrics.registry,
      log,
      now: ctx.clock,
    });
    this.admin_ = admin;
    // A gateway's status says which gallery version it holds; the sync answers with what is missing. Statuses are
    // not stored facts (the bus carries only the gateway's availability), so the sync reads them from the broker.
    await broker.subscribe(allGatewaysTopic('status'), async (packet) => {
      const t = parseGatewayTopic(packet.topic);
      if (!t || this.stopped) return;
      await admin.sync.onStatus(t.gatewayId, packet.payload as Buffer).catch((err: unknown) => log.error({ err, gateway: t.gatewayId }, 'gallery sync failed'));
    });
    this.retention = setInterval(() => {
      admin.retention().catch((err: unknown) => log.error({ err }, 'face retention job failed'));
    }, RETENTION_EVERY_MS);
    this.retention.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.retention);
    await this.admin_?.close();
  }
}
