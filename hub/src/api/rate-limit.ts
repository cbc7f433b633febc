import Type, { type Static } from 'typebox';
import { Counter, type Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors.ts';

/**
 * `limits` in hub.yaml: request bounds and rate limits (README, "Limits"). Every limit answers with a clear refusal
 * and a counter, never a crash: REST 429 + Retry-After, socket.io `connect_error` naming the cap, an over-rate gateway
 * slowed down (its publishes wait, so TCP pushes back) rather than dropped.
 */
export const LimitsConfigSchema = Type.Object(
  {
    requestsPerMinute: Type.Integer({ minimum: 1, default: 1200, description: 'REST requests per user (or per address before login) per minute, sustained' }),
    requestBurst: Type.Integer({ minimum: 1, default: 300, description: 'REST requests a user may make at once before the per-minute rate applies' }),
    socketsPerUser: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'open socket.io live connections per user; the next is refused' }),
    gatewayMessagesPerSecond: Type.Integer({ minimum: 1, default: 2000, description: 'MQTT publishes per gateway per second, sustained; beyond it the gateway is slowed down' }),
    gatewayBurst: Type.Integer({ minimum: 1, default: 10_000, description: 'MQTT publishes a gateway may send at once' }),
    maxRangeDays: Type.Integer({ minimum: 1, maximum: 36_500, default: 366, description: 'longest from..to of a query (events, telemetry, energy consumption and cost), refused with 400 beyond' }),
  },
  { additionalProperties: false, default: {}, description: 'request bounds and rate limits' },
);
export type LimitsConfig = Static<typeof LimitsConfigSchema>;

/**
 * Token buckets by key: `capacity` tokens at most, refilled at `perSecond`. Keys idle long enough to be full again
 * are forgotten, so the map stays as small as the set of active clients.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private sweptAt = 0;

  constructor(
    private readonly perSecond: number,
    private readonly capacity: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes one token: 0 when granted now, else the milliseconds until one is available (nothing taken). */
  take(key: string): number {
    const now = this.clock();
    this.sweep(now);
    const b = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    b.tokens = Math.min(this.capacity, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.perSecond) * 1000);
  }

  /**
   * Takes one token even when none is left (the balance goes negative) and answers how long the caller should wait
   * before acting on it: a throttle that delays rather than refuses.
   */
  borrow(key: string): number {
    const wait = this.take(key);
    if (wait === 0) return 0;
    const b = this.buckets.get(key)!;
    b.tokens -= 1;
    return Math.ceil((-b.tokens / this.perSecond) * 1000);
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    const full = (this.capacity / this.perSecond) * 1000;
    for (const [k, b] of this.buckets) if (now - b.at > full) this.buckets.delete(k);
  }
}

/**
 * Per-user REST rate limit: an onRequest hook after authentication (api/access.ts), keyed by the username, or by
 * the client address for requests without a user (login, health). Over the limit: 429 `rate_limited` with
 * Retry-After (seconds) and `warden_hub_rate_limited_total{kind="rest"}`.
 */
export function registerRateLimit(app: FastifyInstance, limits: LimitsConfig, registry: Registry): void {
  const buckets = new TokenBuckets(limits.requestsPerMinute / 60, limits.requestBurst);
  const limited = rateLimitedCounter(registry);
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    const key = req.user ? `u:${req.user.username}` : `a:${req.socket.remoteAddress ?? '?'}`;
    const wait = buckets.take(key);
    if (wait === 0) return;
    limited.inc({ kind: 'rest' });
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    return reply
      .code(429)
      .header('retry-after', String(seconds))
      .send(errorBody('rate_limited', `Too many requests: at most ${limits.requestsPerMinute} per minute (bursts of ${limits.requestBurst}) per user; try again in ${seconds} s`));
  });
}

/** `warden_hub_rate_limited_total{kind}`: requests (rest), live connections (socket) and gateway publishes (mqtt) held back or refused. */
export function rateLimitedCounter(registry: Registry): Counter<'kind'> {
  const existing = registry.getSingleMetric('warden_hub_rate_limited_total');
  if (existing) return existing as Counter<'kind'>;
  const c = new Counter({ name: 'warden_hub_rate_limited_total', help: 'Requests refused (rest), live connections refused (socket) and gateway publishes slowed down (mqtt) by a rate limit or cap', labelNames: ['kind'], registers: [registry] });
  for (const kind of ['rest', 'socket', 'mqtt']) c.inc({ kind }, 0);
  return c;
}
