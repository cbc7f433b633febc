import { existsSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import { VIDEO_CLOSE } from '@warden/contract';
import type { User } from '../auth/users.ts';
import { startedOr, type HubContext, type HubModule } from '../module.ts';
import { SnapshotCapture } from '../snapshots/capture.ts';
import { SnapshotStore } from '../snapshots/store.ts';
import { LEGACY_VIDEO_FILE } from './config.ts';
import { VIDEO_REFUSALS, VideoRelay, type VideoAccess } from './relay.ts';
import { mayView } from './access.ts';
import { HUB_AUDIENCE, TicketVerifier, loadOrCreateTicketKeys } from './tickets.ts';

export { VIDEO_ROLES, mayView } from './access.ts';

/**
 * Live video as a hub module: the relay on the API module's HTTP server (so it starts after the API and stops
 * before it), configured by `video:` in hub.yaml (hub/README.md, "Cameras"). Access: a valid session (as REST and
 * socket.io), a role in VIDEO_ROLES, the camera in the user's place scope.
 */
export class VideoModule implements HubModule {
  readonly name = 'video';
  private relay_: VideoRelay | undefined;
  private capture: SnapshotCapture | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(private readonly server: () => HttpServer) {}

  get relay(): VideoRelay {
    return startedOr(this.relay_, this.name);
  }

  async start(ctx: HubContext): Promise<void> {
    const legacy = join(ctx.config.dataDir, LEGACY_VIDEO_FILE);
    if (existsSync(legacy)) throw new Error(`${legacy}: video sources moved to the \`video:\` section of hub.yaml (hub/README.md, "Cameras"); move them there and delete this file`);
    const config = ctx.config.video;
    const { tokens, stores } = ctx;
    const log = ctx.log;
    const registers = [ctx.metrics.registry];
    const refused = new Counter({ name: 'warden_hub_video_refused_total', help: 'Live video viewers refused, by reason', labelNames: ['reason'] as const, registers });
    for (const r of VIDEO_REFUSALS) refused.inc({ reason: r }, 0);
    const upstream = new Counter({ name: 'warden_hub_video_upstream_failures_total', help: 'Relay ffmpeg runs that ended while viewers watched (camera unreachable, stream dropped)', registers });
    const closedUpstream = new Counter({ name: 'warden_hub_video_upstream_closed_total', help: 'Live views closed with 4502 after 3 failed pulls in a row', registers });
    // The console opens the hub's relay with a view ticket (POST /api/cameras/:id/live, audience `hub`); a login
    // token in the query is still accepted. Either way the user's account, role and scope are checked now.
    const tickets = new TicketVerifier(loadOrCreateTicketKeys(ctx.config.dataDir).publicKey, HUB_AUDIENCE, ctx.clock);
    const authorize = async (query: URLSearchParams, camera: string): Promise<VideoAccess> => {
      let user: User | null;
      if (query.has('ticket')) {
        const t = tickets.check(query.get('ticket'), camera);
        if (!t.ok) return { ok: false, code: t.refusal === 'wrong_camera' ? VIDEO_CLOSE.forbidden : VIDEO_CLOSE.unauthorized, reason: t.reason };
        const account = stores.users.account(t.claims.sub);
        user = account && !account.disabled ? stores.users.get(t.claims.sub) : null;
      } else user = await tokens.session(query.get('token'), stores.users);
      if (!user) return { ok: false, code: VIDEO_CLOSE.unauthorized, reason: 'log in again: the token is missing, expired or revoked' };
      const may = mayView(user, camera, stores.devices);
      if (!may.ok) return { ok: false, code: VIDEO_CLOSE.forbidden, reason: may.reason };
      return { ok: true, viewer: user.username };
    };
    const relay = new VideoRelay(this.server(), {
      config,
      authorize,
      log,
      onRefused: (reason) => refused.inc({ reason }),
      onUpstreamFailure: (closed) => (closed ? closedUpstream.inc() : upstream.inc()),
    });
    this.relay_ = relay;
    new Gauge({
      name: 'warden_hub_video_streams',
      help: 'Live streams (ffmpeg processes) running now',
      registers,
      collect() {
        this.set(relay.active().length);
      },
    });
    new Gauge({
      name: 'warden_hub_video_viewers',
      help: 'Live video viewers connected now',
      registers,
      collect() {
        this.set(relay.active().reduce((n, s) => n + s.viewers, 0));
      },
    });
    log.info({ cameras: Object.values(config.cameras).filter((c) => c.url).length, maxStreams: config.maxStreams }, 'live video relay ready');

    // Snapshots on alarm linkage and face events (hub/src/snapshots). Files are pruned by the lifecycle job
    // (retention.snapshots, by file time = hub-clock time taken); their index rows here, on the same period.
    const store = new SnapshotStore(stores.db, ctx.config.dataDir);
    this.capture = new SnapshotCapture({ cfg: config, store, bus: ctx.bus, log: log.child({ part: 'snapshots' }), clock: ctx.clock, registry: ctx.metrics.registry });
    const keepMs = ctx.config.retention.snapshots * 86_400_000;
    const prune = () => {
      try {
        store.pruneRows(ctx.clock() - keepMs);
      } catch (err) {
        log.error({ err }, 'snapshots: index prune failed');
      }
    };
    prune();
    this.pruneTimer = setInterval(prune, ctx.config.retention.intervalMinutes * 60_000);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.capture?.stop();
    await this.relay_?.close();
  }
}
