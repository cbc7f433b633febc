import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { PacketSizeGuard } from '@warden/contract/node/packet-guard.ts';
import { RateLimitedLog } from '@warden/contract';
import type { Logger } from 'pino';
import type { HubMetrics } from '../metrics.ts';
import type { BrokerPolicy, PeerCert } from './policy.ts';

export interface BrokerOptions {
  host: string;
  port: number;
  /** Serve plain MQTT on host:port (default true without tls, false with it). */
  plain?: boolean | undefined;
  /** MQTT over TLS; with `ca`, gateways may (requireClientCert: must) present a certificate signed by it. */
  tls?: { host?: string | undefined; port: number; cert: string; key: string; ca?: string | undefined; requireClientCert: boolean } | undefined;
  websocketPath: string;
  maxPacketBytes: number;
  policy: BrokerPolicy;
  metrics: HubMetrics;
  log: Logger;
}

export interface RunningBroker {
  aedes: Aedes;
  /** The plain MQTT listener, or the TLS one when plain is off. */
  address: { host: string; port: number };
  /** The MQTT over TLS listener, when configured. */
  tlsAddress?: { host: string; port: number };
  /** Closes every live session of a gateway (its credential changed); returns how many were closed. */
  disconnectGateway(gatewayId: string): number;
  /** For the HTTP server's 'upgrade' event; returns false when the request is not for MQTT over WebSocket. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Subscribes a hub-internal handler (no ACL); `deliver` resolving is the backpressure signal. */
  subscribe(topic: string, deliver: (packet: AedesPublishPacket) => Promise<void>): Promise<void>;
  publish(topic: string, payload: string | Buffer, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  isConnected(gatewayId: string): boolean;
  clientById(id: string): Client | undefined;
  close(): Promise<void>;
}

/** aedes over TCP and over WebSocket, every connection behind a packet size guard. */
export async function startBroker(o: BrokerOptions): Promise<RunningBroker> {
  const rlog = new RateLimitedLog(o.log);
  const aedes = await Aedes.createBroker({
    // Deliveries in flight across all clients (aedes' default 100). Ingest holds back a gateway over its backlog bound
    // by not completing its delivery (hub/src/ingest/ingestor.ts, room); with 100 slots a few held gateways sending small
    // messages would fill them and stall every other client, acks included. Held deliveries are bounded by the ingest
    // bounds (one read chunk per held connection), not by this number.
    concurrency: 10_000,
    authenticate: o.policy.authenticate,
    authorizePublish: o.policy.authorizePublish,
    authorizeSubscribe: o.policy.authorizeSubscribe,
  });
  const clients = aedes as unknown as { clients: Record<string, Client> };
  const online = new Map<string, Set<Client>>();
  aedes.on('clientReady', (client) => {
    o.metrics.mqttClients.set(aedes.connectedClients);
    const gw = o.policy.gateway(client);
    if (gw) (online.get(gw) ?? online.set(gw, new Set()).get(gw)!).add(client);
  });
  aedes.on('clientDisconnect', (client) => {
    o.metrics.mqttClients.set(aedes.connectedClients);
    const gw = o.policy.gateway(client);
    if (gw) online.get(gw)?.delete(client);
  });
  aedes.on('clientError', (client, err) => {
    rlog.warn('client_error', { clientId: client.id, err: err.message }, 'MQTT client error; connection closed');
  });
  aedes.on('connectionError', (client, err) => {
    rlog.warn('connection_error', { clientId: client.id, err: err.message }, 'MQTT connection error');
  });

  const guard = (conn: Socket | Duplex, remoteAddress: string | undefined, peerCert?: PeerCert): PacketSizeGuard => {
    const g = new PacketSizeGuard(conn, o.maxPacketBytes, (announced) => {
      o.metrics.rejected.inc({ reason: 'oversized' });
      rlog.warn('oversized', { address: remoteAddress, announced, limit: o.maxPacketBytes }, 'MQTT packet over the size limit; connection dropped');
    });
    g.on('error', () => {}); // reported by aedes through the client it belongs to
    return Object.assign(g, { remoteAddress, peerCert });
  };

  const tcpSockets = new Set<Socket>();
  const servers: Server[] = [];
  const listen = async (server: Server, port: number, host: string): Promise<{ host: string; port: number }> => {
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => (server.off('error', reject), resolve()));
    });
    const addr = server.address();
    if (!addr || typeof addr !== 'object') throw new Error('MQTT listener has no address');
    return { host, port: addr.port };
  };
  const track = (socket: Socket) => {
    tcpSockets.add(socket);
    socket.once('close', () => tcpSockets.delete(socket));
    socket.setNoDelay(true);
    socket.on('error', () => {});
  };

  let plainAddress: { host: string; port: number } | undefined;
  let tlsAddress: { host: string; port: number } | undefined;
  try {
    if (o.plain ?? !o.tls) {
      const tcp: Server = createServer((socket) => {
        track(socket);
        aedes.handle(guard(socket, socket.remoteAddress));
      });
      plainAddress = await listen(tcp, o.port, o.host);
    }
    if (o.tls) {
      const t = o.tls;
      const read = (what: string, file: string) => {
        try {
          return readFileSync(file);
        } catch (err) {
          throw new Error(`mqtt.tls.${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
      };
      const server = createTlsServer(
        {
          cert: read('cert', t.cert),
          key: read('key', t.key),
          // With a CA the server asks for a client certificate; the handshake itself refuses an untrusted one only
          // when certificates are required (otherwise the policy refuses a presented but untrusted one, counted).
          ...(t.ca ? { ca: read('ca', t.ca), requestCert: true, rejectUnauthorized: t.requireClientCert } : {}),
          minVersion: 'TLSv1.2',
        },
        (socket: TLSSocket) => {
          track(socket);
          aedes.handle(guard(socket, socket.remoteAddress, peerCertOf(socket)));
        },
      );
      server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        o.metrics.authFailures.inc({ reason: 'tls_handshake' });
        rlog.warn('tls_handshake', { address: socket.remoteAddress, err: err.message }, 'MQTT TLS handshake refused');
      });
      tlsAddress = await listen(server, t.port, t.host ?? o.host);
    }
  } catch (err) {
    for (const s of servers) s.close();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }
  const addr = (plainAddress ?? tlsAddress)!;

  // A frame larger than a packet may be cannot be a valid MQTT packet; ws refuses it before buffering it all.
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPacketBytes + 5 });
  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== o.websocketPath) return false;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', (err: Error & { code?: string }) => {
        if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
          o.metrics.rejected.inc({ reason: 'oversized' });
          rlog.warn('oversized', { address: req.socket.remoteAddress, limit: o.maxPacketBytes }, 'WebSocket frame over the size limit; connection dropped');
        }
      });
      const stream = createWebSocketStream(ws);
      stream.on('error', () => {});
      aedes.handle(guard(stream, req.socket.remoteAddress), req);
    });
    return true;
  };

  return {
    aedes,
    address: addr,
    ...(tlsAddress ? { tlsAddress } : {}),
    disconnectGateway: (gw) => {
      const live = [...(online.get(gw) ?? [])];
      for (const client of live) client.close();
      online.delete(gw);
      return live.length;
    },
    handleUpgrade,
    subscribe: (topic, deliver) =>
      new Promise<void>((resolve, reject) => {
        const fn = (packet: AedesPublishPacket, cb: () => void) => {
          deliver(packet).then(cb, (err: unknown) => {
            o.log.error({ err, topic: packet.topic }, 'internal subscriber failed');
            cb();
          });
        };
        try {
          aedes.subscribe(topic, fn, () => resolve());
        } catch (err) {
          reject(err as Error);
        }
      }),
    publish: (topic, payload, opts = {}) =>
      new Promise<void>((resolve, reject) => {
        aedes.publish(
          { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        );
      }),
    isConnected: (gw) => (online.get(gw)?.size ?? 0) > 0,
    clientById: (id) => clients.clients[id],
    async close() {
      // Stop accepting first; the listener finishes closing once aedes has dropped every client.
      const tcpClosed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      for (const s of tcpSockets) s.destroy();
      await tcpClosed;
    },
  };
}

/** The client certificate a TLS connection presented, if any, as the policy checks it. */
function peerCertOf(socket: TLSSocket): PeerCert | undefined {
  const c = socket.getPeerCertificate();
  if (!c || Object.keys(c).length === 0 || !c.raw) return undefined;
  const cn = c.subject?.CN;
  const names = [...(Array.isArray(cn) ? cn : cn ? [cn] : [])];
  for (const part of (c.subjectaltname ?? '').split(', ')) if (part.startsWith('DNS:')) names.push(part.slice(4));
  const error = socket.authorizationError;
  return {
    authorized: socket.authorized,
    ...(error ? { error: String(error) } : {}),
    names,
    fingerprint: c.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}
