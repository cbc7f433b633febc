import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { UserRepo } from '../auth/users.ts';
import type { HubBus, LiveMessages } from './bus.ts';

/** May this user receive this message? (default: every authenticated user receives everything) */
export type LiveFilter = (user: { username: string; roles: readonly string[] }, channel: string, msg: unknown) => boolean;

export interface LiveFeed {
  close(): Promise<void>;
}

/**
 * socket.io on the hub's HTTP server. A client authenticates with its login token (`auth.token`); stored events,
 * device availability and gateway status are pushed to every authenticated client.
 */
export function startLiveFeed(http: HttpServer, d: { bus: HubBus; tokens: TokenService; users: UserRepo; metrics: HubMetrics; log: Logger; filter?: LiveFilter }): LiveFeed {
  // destroyUpgrade: false leaves upgrades on other paths (MQTT over WebSocket) to their own handler.
  const io = new Server(http, { path: '/socket.io', serveClient: false, destroyUpgrade: false });
  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    void d.tokens.verify(token).then((username) => {
      const user = username ? d.users.get(username) : null;
      if (!user) return next(new Error('unauthorized'));
      socket.data.user = user;
      next();
    });
  });
  io.on('connection', (socket) => {
    d.metrics.liveClients.set(io.engine.clientsCount);
    socket.on('disconnect', () => d.metrics.liveClients.set(io.engine.clientsCount));
  });
  const forward = <K extends keyof LiveMessages>(name: K) => {
    const fn = (msg: LiveMessages[K]) => {
      const filter = d.filter;
      if (!filter) return void io.emit(name, msg as never);
      for (const socket of io.sockets.sockets.values()) if (filter(socket.data.user as { username: string; roles: string[] }, name, msg)) socket.emit(name, msg as never);
    };
    d.bus.on(name, fn as never);
    return () => d.bus.off(name, fn as never);
  };
  const unsubscribe = [forward('event'), forward('device'), forward('gateway'), forward('alarm'), forward('linkage'), forward('attendance')];
  return {
    async close() {
      for (const u of unsubscribe) u();
      io.disconnectSockets(true);
      // Not io.close(): that would also close the HTTP server, which fastify owns.
      io.engine.close();
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}
