import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { User, UserRepo } from '../auth/users.ts';
import type { HubBus, LiveMessages } from './bus.ts';
import { rateLimitedCounter } from '../api/rate-limit.ts';
import { Counter } from 'prom-client';
import { emitHeld, heldPackets, LiveLanes } from './lanes.ts';
import { LiveCoalescer, type LiveSink } from './coalesce.ts';
import Value from 'typebox/value';
import { LIVE_BATCH_MS, LiveFeedModeSchema } from '@warden/contract';

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
export function startLiveFeed(
  http: HttpServer,
  d: { bus: HubBus; tokens: TokenService; users: UserRepo; metrics: HubMetrics; log: Logger; filter?: LiveFilter; maxPerUser?: number; batchMs?: number; batchMax?: number },
): LiveFeed {
  // destroyUpgrade: false leaves upgrades on other paths (MQTT over WebSocket) to their own handler.
  const io = new Server(http, { path: '/socket.io', serveClient: false, destroyUpgrade: false });
  const perUser = new Map<string, number>();
  const refused = rateLimitedCounter(d.metrics.registry);
  const handshakeRefused = new Counter({ name: 'warden_hub_live_refused_total', help: 'Live connections refused for a bad handshake', labelNames: ['reason'] as const, registers: [d.metrics.registry] });
  io.use((socket, next) => {
    const auth = socket.handshake.auth as { token?: unknown; feed?: unknown } | undefined;
    const token = auth?.token;
    const feed = auth?.feed ?? 'per-event';
    if (!Value.Check(LiveFeedModeSchema, feed)) {
      handshakeRefused.inc({ reason: 'bad_feed' });
      return next(new Error('bad_feed: auth.feed must be "per-event" or "coalesced"'));
    }
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
      socket.data.feed = feed;
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
  const shed = new Counter({
    name: 'warden_hub_live_shed_total',
    help: 'Live connections closed because they held LIVE_MAX_HELD unread packets (reason closed_slow; the client reconnects and reloads over REST)',
    labelNames: ['reason'] as const,
    registers: [d.metrics.registry],
  });
  const coalesced = new Counter({
    name: 'warden_hub_live_coalesced_total',
    help: 'Coalesced live feed: batches sent, events in them, events counted as skipped, alarm updates merged, batches held back while a connection was busy, per-event connections switched for being too slow',
    labelNames: ['kind'] as const,
    registers: [d.metrics.registry],
  });
  const coalescer = new LiveCoalescer(coalesced, d.batchMax);
  const sinks = new Map<string, LiveSink>();
  const coalesce = (socket: import('socket.io').Socket) => {
    const sink = socketSink(socket, shed);
    sinks.set(socket.id, sink);
    coalescer.add(sink);
    return sink;
  };
  // A per-event connection that cannot keep up: told so (contract LiveFeedSwitch), then coalesced from its backlog on.
  const lanes = new LiveLanes(shed, (socket, waiting) => {
    coalesced.inc({ kind: 'switched_slow' });
    socket.data.feed = 'coalesced';
    if (!emitHeld(socket, 'feed', { mode: 'coalesced', reason: 'slow_client', waiting: waiting.length } satisfies LiveMessages['feed'], shed)) return;
    const sink = coalesce(socket);
    for (const [name, msg] of waiting) coalescer.send(sink, name, msg);
  });
  io.on('connection', (socket) => {
    d.metrics.liveClients.set(io.engine.clientsCount);
    if (socket.data.feed === 'coalesced') coalesce(socket);
    socket.on('disconnect', () => {
      d.metrics.liveClients.set(io.engine.clientsCount);
      const sink = sinks.get(socket.id);
      if (sink) (coalescer.remove(sink), sinks.delete(socket.id));
    });
  });
  const flusher = setInterval(() => coalescer.flush(), d.batchMs ?? LIVE_BATCH_MS);
  flusher.unref();
  const forward = <K extends keyof LiveMessages>(name: K) => {
    const fn = (msg: LiveMessages[K]) => {
      const filter = d.filter;
      for (const socket of io.sockets.sockets.values()) {
        if (filter && !filter(socket.data.user as User, name, msg)) continue;
        const sink = sinks.get(socket.id);
        // Coalesced clients (coalesce.ts): routine events batched, alarm updates merged, the rest at once.
        if (sink) coalescer.send(sink, name, msg);
        // Per-event clients: priority lane per socket (lanes.ts), alarms and safety events never wait behind routine events.
        else lanes.send(socket, name, msg);
      }
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
      clearInterval(flusher);
      io.disconnectSockets(true);
      // Not io.close(): that would also close the HTTP server, which fastify owns.
      io.engine.close();
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}

/** Bytes a coalesced client's WebSocket may still have to write before its next batch waits (one batch is ~50 KB). */
const BUSY_BYTES = 64 * 1024;
/** ...or packets engine.io holds for it (a WebSocket mid-write, or a long-polling client between polls). */
const BUSY_PACKETS = 8;

/**
 * A socket.io socket as a coalesced sink; busy while engine.io holds packets or the WebSocket has bytes unwritten.
 * What it sends at once is bounded like a per-event socket's priority messages (emitHeld: closed beyond LIVE_MAX_HELD).
 */
function socketSink(socket: import('socket.io').Socket, shed: Counter<'reason'>): LiveSink {
  const conn = socket.conn as unknown as { transport?: { socket?: { bufferedAmount?: number } } };
  return {
    get connected() {
      return socket.connected;
    },
    emit: (name, msg) => void emitHeld(socket, name, msg, shed),
    busy: () => heldPackets(socket) >= BUSY_PACKETS || (conn.transport?.socket?.bufferedAmount ?? 0) > BUSY_BYTES,
  };
}
