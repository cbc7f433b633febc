import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import type { RejectReason } from '@warden/contract';
import { PacketSizeGuard } from '@warden/contract/node/packet-guard.ts';

export interface FieldBrokerOptions {
  host: string;
  port: number;
  /** Devices log in with username = device id, password = their secret. */
  requireAuth: boolean;
  /** Required to listen on a non-loopback address with requireAuth off (the caller's explicit choice). */
  allowUnauthenticated?: boolean;
  /** PEM files: serve MQTT over TLS; with `ca`, devices must present a certificate signed by it. */
  tls?: { cert: string; key: string; ca?: string | undefined } | undefined;
  maxPacketBytes: number;
  /** Configured devices and their field secrets. */
  devices: ReadonlyMap<string, { secret?: string | undefined }>;
  /**
   * A device's message on one of its own topics (availability excluded). Runs before the broker
   * acknowledges a QoS 1 publish, so a message is on disk before the device is told it arrived;
   * throwing refuses the message and drops the connection, and the device sends it again.
   */
  onMessage(deviceId: string, topic: string, payload: Buffer, delivery?: Delivery): void;
  /** Raw availability signals; the caller turns them into transitions. */
  onAvailability(deviceId: string, online: boolean, reason: string): void;
  /** Counts and logs a refusal. */
  refuse(reason: RejectReason, fields: Record<string, unknown>, msg: string): void;
  logger: Logger;
}

/**
 * Identity of a QoS 1/2 publish: the device's packet id and the connection it came over. A device
 * whose connection broke before our PUBACK reached it sends the same packet again on its next
 * connection; the ingest uses this to recognise that resend instead of storing the message twice.
 */
export interface Delivery {
  messageId: number;
  connection: string;
}

// Differs on every agent start, so connections of an earlier (possibly killed) process never match.
const BOOT = randomBytes(6).toString('hex');
let connectionCounter = 0;

export interface FieldBroker {
  host: string;
  port: number;
  /** Sends a native message to devices (QoS 1, not retained). */
  publish(topic: string, payload: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

function authError(message: string, returnCode: 2 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function remoteOf(client: Client): string | undefined {
  return (client.conn as { remoteAddress?: string }).remoteAddress;
}

function sameSecret(given: Buffer | undefined, expected: string): boolean {
  if (!given) return false;
  const want = Buffer.from(expected, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

/** MQTT wildcards, the level separator and NUL: never part of a device id (they would widen topic checks). */
const FORBIDDEN_IN_ID = /[+#/\u0000]/;

/**
 * A device owns the topics whose second level is exactly its id (FIELD-PROTOCOLS.md); nothing else, and no `$`
 * topics. The first two levels of a subscription must be literal: `+/door-1/#` or `acs/+/control` are refused.
 * Ids never hold wildcards (refused at CONNECT), so `+` cannot "equal" `+` here.
 */
function ownsTopic(clientId: string, topic: string): boolean {
  if (topic.startsWith('$') || FORBIDDEN_IN_ID.test(clientId) || clientId === '') return false;
  const levels = topic.split('/');
  return levels.length >= 2 && levels[1] === clientId && !/[+#\u0000]/.test(levels[0]!);
}

const LOOPBACK = (host: string): boolean => {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
};

/**
 * The embedded MQTT broker field devices connect to: aedes behind a packet size guard, with
 * per-device credentials (optional), a topic ACL, and availability from `avail/{id}` and connection state.
 */
export async function startFieldBroker(o: FieldBrokerOptions): Promise<FieldBroker> {
  if (!o.requireAuth && !o.allowUnauthenticated && !LOOPBACK(o.host)) {
    throw new Error(
      `refusing to start the field broker on ${o.host} without device authentication: anyone on that network could act as any device ` +
        '(give devices secrets and keep field.requireAuth on, or set field.allowUnauthenticated: true explicitly)',
    );
  }
  let closing = false;
  // Device ids with a live (or logging-in) session. A second CONNECT with the same id is refused, so nobody can
  // take a door controller's session over by knowing its id [instead of MQTT-3.1.4-2's takeover].
  const sessions = new Map<string, Client>();

  const authenticate: AedesOptions['authenticate'] = (client, username, password, done) => {
    const id = client.id;
    if (typeof id !== 'string' || id === '' || FORBIDDEN_IN_ID.test(id) || !o.devices.has(id)) {
      o.refuse('client_id_refused', { client: String(id).slice(0, 128), username }, 'field login refused: the client id is not a configured field device');
      return done(authError('identifier rejected', 2), false);
    }
    if (o.requireAuth) {
      const device = o.devices.get(id);
      if (username !== id || !device?.secret || !sameSecret(password, device.secret)) {
        o.refuse('auth_failed', { client: id, username }, 'field device login refused');
        return done(authError('bad username or password', 4), false);
      }
    }
    const holder = sessions.get(id) ?? (broker as unknown as { clients: Record<string, Client | undefined> }).clients[id];
    if (holder && holder !== client && !(holder as { closed?: boolean }).closed) {
      o.refuse('session_taken', { client: id, remote: remoteOf(client) }, 'field login refused: this device id already has a live session');
      return done(authError('identifier in use', 2), false);
    }
    sessions.set(id, client);
    const conn = client.conn as unknown as { once?(ev: string, fn: () => void): void };
    conn.once?.('close', () => {
      if (sessions.get(id) === client) sessions.delete(id);
    });
    done(null, true);
  };

  const authorizePublish: AedesOptions['authorizePublish'] = (client, packet, done) => {
    // null client: a will left over from a previous broker instance; the in-memory persistence has none.
    if (!client) return done(null);
    if (!ownsTopic(client.id, packet.topic)) {
      o.refuse('acl_publish_denied', { client: client.id, topic: packet.topic }, 'device published outside its own topics');
      return done(new Error(`${client.id} may not publish to ${packet.topic}`));
    }
    if (closing) return done(null);
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    try {
      if (packet.topic === `avail/${client.id}`) availability(client, payload);
      else {
        const delivery = packet.qos > 0 && packet.messageId !== undefined ? { messageId: packet.messageId, connection: connectionOf(client) } : undefined;
        o.onMessage(client.id, packet.topic, payload, delivery);
      }
    } catch (err) {
      o.logger.error({ err, client: client.id, topic: packet.topic }, 'could not store a field message; refusing it so the device resends');
      return done(err as Error);
    }
    done(null);
  };

  const connections = new WeakMap<Client, string>();
  function connectionOf(client: Client): string {
    let c = connections.get(client);
    if (!c) connections.set(client, (c = `${BOOT}-${++connectionCounter}`));
    return c;
  }

  const authorizeSubscribe: AedesOptions['authorizeSubscribe'] = (client, sub, done) => {
    if (!ownsTopic(client.id, sub.topic)) {
      o.refuse('acl_subscribe_denied', { client: client.id, topic: sub.topic }, 'device subscribed outside its own topics');
      return done(null, null); // negated: SUBACK 0x80 for this topic, the connection stays up
    }
    done(null, sub);
  };

  function availability(client: Client, payload: Buffer): void {
    if (!o.devices.has(client.id)) return;
    const state = payload.toString('utf8').trim();
    if (state === 'online' || state === 'offline') o.onAvailability(client.id, state === 'online', `reported ${state}`);
    else o.refuse('schema_invalid', { device: client.id, topic: `avail/${client.id}`, payload: state.slice(0, 64) }, 'availability must be "online" or "offline"');
  }

  const broker = await Aedes.createBroker({ authenticate, authorizePublish, authorizeSubscribe, drainTimeout: 30_000 });
  broker.on('clientReady', (client) => {
    if (!closing && o.devices.has(client.id)) o.onAvailability(client.id, true, 'connected');
  });
  broker.on('clientDisconnect', (client) => {
    if (!closing && o.devices.has(client.id)) o.onAvailability(client.id, false, 'disconnected');
  });
  broker.on('clientError', (client, err) => o.logger.debug({ client: client.id, err: err.message }, 'field client error'));
  broker.on('connectionError', (client, err) => o.logger.debug({ client: client.id, err: err.message }, 'field connection error'));

  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const guarded = new PacketSizeGuard(socket, o.maxPacketBytes, (announced) => {
      o.refuse('oversized', { remote: socket.remoteAddress, announced, limit: o.maxPacketBytes }, 'oversized MQTT packet; connection dropped');
    });
    broker.handle(guarded);
  };
  const server: Server = o.tls
    ? createTlsServer(
        {
          cert: readFileSync(o.tls.cert),
          key: readFileSync(o.tls.key),
          ...(o.tls.ca ? { ca: readFileSync(o.tls.ca), requestCert: true, rejectUnauthorized: true } : {}),
          minVersion: 'TLSv1.2',
        },
        onSocket,
      )
    : createServer(onSocket);
  if (o.tls) {
    server.on('tlsClientError', (err: Error, socket: Socket) => {
      o.refuse('auth_failed', { remote: socket.remoteAddress, err: err.message }, 'field TLS handshake refused');
    });
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((r) => broker.close(() => r()));
    throw err;
  }
  server.on('error', (err) => o.logger.error({ err }, 'field broker server error'));
  const port = (server.address() as AddressInfo).port;

  return {
    host: o.host,
    port,
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) => {
        broker.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain: false, dup: false }, (err) =>
          err ? reject(err) : resolve(),
        );
      }),
    close: async () => {
      if (closing) return;
      closing = true;
      const stopped = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => broker.close(() => r()));
      await stopped;
    },
  };
}
