import type { Server as HttpServer } from 'node:http';
import type { HubContext, HubModule } from '../module.ts';
import { startLiveFeed, type LiveFeed, type LiveFilter } from './feed.ts';

/**
 * The socket.io live feed as a hub module: forwards the hub bus (`event`, `device`, `gateway`, `alarm`, `linkage`) to
 * every authenticated client, on the HTTP server of the API module (started before it, stopped after it).
 */
export class LiveFeedModule implements HubModule {
  readonly name = 'live';
  private feed: LiveFeed | undefined;

  constructor(
    private readonly server: () => HttpServer,
    /** Per-user narrowing of what a client receives (attendance: a dorm manager's own buildings). */
    private readonly filter?: LiveFilter,
  ) {}

  async start(ctx: HubContext): Promise<void> {
    this.feed = startLiveFeed(this.server(), { bus: ctx.bus, tokens: ctx.tokens, users: ctx.stores.users, metrics: ctx.metrics, log: ctx.log, maxPerUser: ctx.config.limits.socketsPerUser, ...(this.filter ? { filter: this.filter } : {}) });
  }

  async stop(): Promise<void> {
    await this.feed?.close();
  }
}
