import { createServer, type AddressInfo, type Socket } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import type { RejectReason } from '@warden/contract';
import { PacketSizeGuard } from '@warden/contract/node/packet-guard.ts';

export interface FieldBrokerOptions {
  host: string;
  port: number;
  requireAuth: boolean;
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

function authError(message: string, returnCode: 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function sameSecret(given: Buffer | undefined, expected: string): boolean {
  if (!given) return false;
  const want = Buffer.from(expected, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

/** A device owns the topics whose second segment is its id (FIELD-PROTOCOLS.md); nothing else, and no `$` topics. */
function ownsTopic(clientId: string, topic: string): boolean {
  return !topic.startsWith('$') && topic.split('/')[1] === clientId;
}

/**
 * The embedded MQTT broker field devices connect to: aedes behind a packet size guard, with
 * per-device credentials (optional), a topic ACL, and availability from `avail/{id}` and connection state.
 */
export async function startFieldBroker(o: FieldBrokerOptions): Promise<FieldBroker> {
  let closing = false;

  const authenticate: AedesOptions['authenticate'] = (client, username, password, done) => {
    if (!o.requireAuth) return done(null, true);
    const device = o.devices.get(client.id);
    if (username !== client.id || !device?.secret || !sameSecret(password, device.secret)) {
      o.refuse('auth_failed', { client: client.id, username }, 'field device login refused');
      return done(authError('bad username or password', 4), false);
    }
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
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const guarded = new PacketSizeGuard(socket, o.maxPacketBytes, (announced) => {
      o.refuse('oversized', { remote: socket.remoteAddress, announced, limit: o.maxPacketBytes }, 'oversized MQTT packet; connection dropped');
    });
    broker.handle(guarded);
  });

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
