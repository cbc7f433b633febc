import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { User, UserRepo } from '../auth/users.ts';
import type { HubBus, LiveMessages } from './bus.ts';
import { rateLimitedCounter } from '../api/rate-limit.ts';
import { Counter } from 'prom-client';
import { LiveLanes } from './lanes.ts';

/** May this user receive this message? (hub.ts composes the access policy's liveAllowed with the attendance filter) */
export type LiveFilter = (user: User, channel: string, msg: unknown) => boolean;

export interface LiveFeed {
  close(): Promise<void>;
}

/**
 * socket.io on the hub's HTTP server. A client authenticates with its login token (`auth.token`: signature, expiry,
 * account enabled, session not revoked); stored events, device availability, gateway status, alarms and linkage are
 * pushed to each client the filter lets see them. When a user's sessions are revoked (log out everywhere, password
 * change, disable, role or scope change) their open sockets are disconnected at once; a periodic re-check also drops
 * sockets whose token expired.
 */
export function startLiveFeed(http: HttpServer, d: { bus: HubBus; tokens: TokenService; users: UserRepo; metrics: HubMetrics; log: Logger; filter?: LiveFilter; maxPerUser?: number }): LiveFeed {
  // destroyUpgrade: false leaves upgrades on other paths (MQTT over WebSocket) to their own handler.
  const io = new Server(http, { path: '/socket.io', serveClient: false, destroyUpgrade: false });
  const perUser = new Map<string, number>();
  const refused = rateLimitedCounter(d.metrics.registry);
  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    void d.tokens.session(token, d.users).then((user) => {
      if (!user) return next(new Error('unauthorized'));
      // At most limits.socketsPerUser open connections per user (hub/src/api/rate-limit.ts); the next is refused.
      const open = perUser.get(user.username) ?? 0;
      if (d.maxPerUser !== undefined && open >= d.maxPerUser) {
        refused.inc({ kind: 'socket' });
        return next(new Error(`too_many_connections: at most ${d.maxPerUser} live connections per user; close another console tab`));
      }
      perUser.set(user.username, open + 1);
      socket.once('disconnect', () => {
        const n = (perUser.get(user.username) ?? 1) - 1;
        if (n <= 0) perUser.delete(user.username);
        else perUser.set(user.username, n);
      });
      socket.data.user = user;
      socket.data.token = token;
      next();
    });
  });
  const dropUser = (username: string) => {
    for (const socket of io.sockets.sockets.values()) if ((socket.data.user as User | undefined)?.username === username) socket.disconnect(true);
  };
  d.users.on('revoked', dropUser);
  const recheck = setInterval(() => {
    for (const socket of io.sockets.sockets.values()) {
      void d.tokens.session(socket.data.token, d.users).then((user) => {
        if (!user) socket.disconnect(true);
        // Roles and scope as they are now (a change also revokes, this only catches races).
        else socket.data.user = user;
      });
    }
  }, 30_000);
  recheck.unref();
  io.on('connection', (socket) => {
    d.metrics.liveClients.set(io.engine.clientsCount);
    socket.on('disconnect', () => d.metrics.liveClients.set(io.engine.clientsCount));
  });
  const lanes = new LiveLanes(new Counter({ name: 'warden_hub_live_shed_total', help: 'Routine live messages a console too slow to take them never got (it reloads history over REST)', labelNames: ['reason'] as const, registers: [d.metrics.registry] }));
  const forward = <K extends keyof LiveMessages>(name: K) => {
    const fn = (msg: LiveMessages[K]) => {
      const filter = d.filter;
      // Priority lane per socket (lanes.ts): alarms and safety events never wait behind routine events.
      for (const socket of io.sockets.sockets.values()) if (!filter || filter(socket.data.user as User, name, msg)) lanes.send(socket, name, msg);
    };
    d.bus.on(name, fn as never);
    return () => d.bus.off(name, fn as never);
  };
  const unsubscribe = [forward('event'), forward('device'), forward('gateway'), forward('alarm'), forward('linkage'), forward('attendance')];
  return {
    async close() {
      for (const u of unsubscribe) u();
      d.users.off('revoked', dropUser);
      clearInterval(recheck);
      io.disconnectSockets(true);
      // Not io.close(): that would also close the HTTP server, which fastify owns.
      io.engine.close();
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
