import type { AuthenticateError, Client, PublishPacket, Subscription } from 'aedes';
import { rateLimitedCounter, type TokenBuckets } from '../api/rate-limit.ts';
import { RateLimitedLog, isValidGatewayId } from '@warden/contract';
import type { Logger } from 'pino';
import { LoginLimiter } from '../auth/login-limiter.ts';
import { verifyNothing, verifyPassword } from '../auth/passwords.ts';
import type { HubMetrics } from '../metrics.ts';
import type { GatewayRepo } from '../store/gateways.ts';
import { checkPublish, checkSubscribe } from './acl.ts';

export type AuthFailure =
  | 'missing_credentials'
  | 'unknown_gateway'
  | 'bad_password'
  | 'client_id_taken'
  | 'client_id_not_assigned'
  | 'throttled'
  | 'client_cert_required'
  | 'client_cert_untrusted'
  | 'client_cert_mismatch'
  | 'client_cert_revoked';

/** A client certificate presented on the MQTT/TLS listener (hub/src/broker/server.ts). */
export interface PeerCert {
  /** It chains to mqtt.tls.ca. */
  authorized: boolean;
  error?: string;
  /** Subject CN and DNS subjectAltNames. */
  names: string[];
  /** SHA-256, 64 lower-case hex digits. */
  fingerprint: string;
}

const CERT_FAILURES: readonly AuthFailure[] = ['missing_credentials', 'unknown_gateway', 'bad_password', 'client_cert_required', 'client_cert_untrusted', 'client_cert_mismatch', 'client_cert_revoked'];

/** The one MQTT client id the hub assigns a gateway (the edge agent's hub link uses it). */
export const gatewayClientId = (gatewayId: string): string => `warden-edge-${gatewayId}`;

// CONNACK return codes (MQTT 3.1.1 table 3.1).
const IDENTIFIER_REJECTED = 2;
const NOT_AUTHORIZED = 5;

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export interface BrokerPolicyDeps {
  gateways: GatewayRepo;
  metrics: HubMetrics;
  log: Logger;
  /** The connected client holding an MQTT client id, if any. */
  clientById(id: string): Client | undefined;
  /** Failed MQTT logins per source address per minute before further CONNECTs are refused unchecked (default 20). */
  authFailuresPerMinute?: number;
  /** Mutual TLS: every login needs a trusted client certificate naming its gateway (mqtt.tls.requireClientCert). */
  requireClientCert?: boolean;
  /** Revoked client certificate fingerprints. */
  isRevoked?(fingerprint: string): boolean;
  /** Per-gateway publish rate (limits.gatewayMessagesPerSecond/gatewayBurst): over it, publishes wait (api/rate-limit.ts). */
  publishLimit?: TokenBuckets;
}

/**
 * Who may connect and what each gateway may publish and subscribe to. Every refusal is counted and logged at a
 * limited rate. Hub-internal traffic never passes through here (it uses broker.publish / broker.subscribe).
 */
export class BrokerPolicy {
  private readonly gatewayOf = new WeakMap<Client, string>();
  private readonly rlog: RateLimitedLog;
  /** Per source address: a password guesser is refused without running argon2 (counted as reason "throttled"). */
  private readonly throttle: LoginLimiter;

  constructor(private readonly d: BrokerPolicyDeps) {
    this.rlog = new RateLimitedLog(d.log);
    this.throttle = new LoginLimiter(d.authFailuresPerMinute ?? 20);
  }

  /** The gateway a connected client authenticated as. */
  gateway(client: Client): string | undefined {
    return this.gatewayOf.get(client);
  }

  readonly authenticate = (
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    const address = remote(client) ?? 'unknown';
    const throttled = this.throttle.blockedFor(address) > 0;
    void (throttled ? Promise.resolve<AuthFailure>('throttled') : this.check(client, username, password)).then(
      (failure) => {
        if (!failure) return done(null, true);
        if (CERT_FAILURES.includes(failure)) this.throttle.fail(address);
        this.d.metrics.authFailures.inc({ reason: failure });
        this.rlog.warn(`auth_${failure}`, { gateway: username, clientId: client.id, address: remote(client) }, 'MQTT connection refused');
        done(refusal(failure, failure === 'client_id_taken' || failure === 'client_id_not_assigned' ? IDENTIFIER_REJECTED : NOT_AUTHORIZED), false);
      },
      (err: unknown) => {
        this.d.log.error({ err }, 'MQTT authentication failed unexpectedly');
        done(refusal('server error', 3), false);
      },
    );
  };

  private async check(client: Client, username: string | undefined, password: Buffer | undefined): Promise<AuthFailure | null> {
    if (!username || !password || password.length === 0) return 'missing_credentials';
    // The certificate is checked before the password (no argon2 for a connection that cannot log in anyway): a
    // presented certificate must chain to the CA, name this gateway (CN or DNS SAN) and not be revoked.
    const cert = (client.conn as { peerCert?: PeerCert }).peerCert;
    if (cert) {
      if (!cert.authorized) return 'client_cert_untrusted';
      if (!cert.names.includes(username)) return 'client_cert_mismatch';
      if (this.d.isRevoked?.(cert.fingerprint)) return 'client_cert_revoked';
    } else if (this.d.requireClientCert) return 'client_cert_required';
    const hash = isValidGatewayId(username) ? this.d.gateways.passwordHash(username) : null;
    if (!hash) return verifyNothing(password.toString('utf8')).then(() => 'unknown_gateway');
    if (!(await verifyPassword(hash, password.toString('utf8')))) return 'bad_password';
    // The hub assigns each gateway exactly one client id, warden-edge-<gateway id>: no gateway can squat on
    // another's id (connecting first with it would lock the owner out) and each gateway has one session.
    if (client.id !== gatewayClientId(username)) return 'client_id_not_assigned';
    // [MQTT-3.1.4-2] a second CONNECT with a live client id takes that session over; one gateway must not be able
    // to knock another off the hub that way, neither through its live session nor by squatting on its id.
    const holder = this.d.clientById(client.id);
    const holderGateway = holder ? this.gatewayOf.get(holder) : undefined;
    if (holderGateway !== undefined && holderGateway !== username) return 'client_id_taken';
    if (client.id !== username && isValidGatewayId(client.id) && this.d.gateways.exists(client.id)) return 'client_id_taken';
    this.gatewayOf.set(client, username);
    return null;
  }

  readonly authorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void => {
    const gw = client ? this.gatewayOf.get(client) : undefined;
    const decision = gw ? checkPublish(gw, packet.topic) : ({ ok: false, reason: 'acl_publish_denied', detail: 'not an authenticated gateway' } as const);
    if (decision.ok) {
      // Batches are acknowledged, not kept: a retained uplink would only pin memory in the broker.
      if (decision.channel === 'up') packet.retain = false;
      // Over its rate the gateway is slowed, not cut off: the callback waits, aedes reads nothing more from that
      // socket meanwhile, and TCP pushes back on the gateway (whose outbox keeps what it has not had acked).
      const wait = gw ? (this.d.publishLimit?.borrow(gw) ?? 0) : 0;
      if (wait === 0) return callback(null);
      rateLimitedCounter(this.d.metrics.registry).inc({ kind: 'mqtt' });
      this.rlog.warn('publish_rate', { gateway: gw, waitMs: wait }, 'gateway over its publish rate; slowing it down');
      setTimeout(() => callback(null), wait);
      return;
    }
    this.d.metrics.rejected.inc({ reason: decision.reason });
    this.rlog.warn(decision.reason, { gateway: gw, topic: packet.topic.slice(0, 200), detail: decision.detail }, 'MQTT publish refused; closing the connection');
    // MQTT 3.1.1 has no negative PUBACK: the connection is closed [MQTT-3.3.5-2].
    callback(new Error(decision.detail));
  };

  readonly authorizeSubscribe = (
    client: Client,
    sub: Subscription,
    callback: (error: Error | null, subscription?: Subscription | null) => void,
  ): void => {
    const gw = this.gatewayOf.get(client);
    const decision = gw ? checkSubscribe(gw, sub.topic) : ({ ok: false, reason: 'acl_subscribe_denied', detail: 'not an authenticated gateway' } as const);
    if (decision.ok) return callback(null, sub);
    this.d.metrics.rejected.inc({ reason: decision.reason });
    this.rlog.warn(decision.reason, { gateway: gw, topic: sub.topic.slice(0, 200), detail: decision.detail }, 'MQTT subscription refused');
    // A null subscription answers SUBACK 0x80 for this topic and keeps the connection [MQTT-3.9.3].
    callback(null, null);
  };
}

function remote(client: Client): string | undefined {
  const c = client.conn as { remoteAddress?: string };
  return c.remoteAddress ?? client.req?.socket.remoteAddress;
}
