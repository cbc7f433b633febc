import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { VIDEO_CLOSE, schemaErrors } from '@warden/contract';
import { isLoopbackHost } from '../config.ts';
import { RELAY_NODE_ID_PATTERN, STREAM_SETTINGS } from './config.ts';
import { VideoRelay, isVideoRequest, type VideoAccess } from './relay.ts';
import { TicketVerifier, readTicketPublicKey, type TicketRefusal } from './tickets.ts';

/**
 * `relay.yaml` of a relay node (`warden relay --config relay.yaml`): a box that only transcodes live video. It serves
 * the cameras listed here to viewers holding a ticket the hub signed for this node (audience = `id`); it has no user
 * database and trusts nothing the browser says but the ticket's signature (hub/README.md, "Relay nodes").
 */
export const RelayNodeConfigSchema = Type.Object(
  {
    id: Type.String({ pattern: RELAY_NODE_ID_PATTERN, description: 'this node’s id: its key under `video.nodes` in hub.yaml, the audience of its tickets' }),
    listen: Type.Object(
      {
        host: Type.String({ minLength: 1, default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8090 }),
        allowInsecure: Type.Boolean({ default: false, description: 'plain ws:// on a non-loopback address (tickets and video in clear): only with this set' }),
      },
      { additionalProperties: false, default: {} },
    ),
    tls: Type.Optional(
      Type.Object({ cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }, { additionalProperties: false, description: 'PEM files: serve wss:// and https:// (metrics)' }),
    ),
    hubPublicKey: Type.String({ minLength: 1, description: 'the hub’s ticket public key (copy of <hub dataDir>/video-ticket.pub)' }),
    ticketLeewaySeconds: Type.Integer({ minimum: 0, maximum: 300, default: 10, description: 'clock difference to the hub tolerated on a ticket’s expiry' }),
    metrics: Type.Object(
      { tokenFile: Type.Optional(Type.String({ minLength: 1, description: 'a file holding the bearer token /metrics asks of non-loopback callers; absent: loopback only' })) },
      { additionalProperties: false, default: {} },
    ),
    ...STREAM_SETTINGS,
  },
  { additionalProperties: false },
);
export type RelayNodeConfig = Static<typeof RelayNodeConfigSchema>;

export class RelayConfigError extends Error {
  constructor(
    readonly errors: string[],
    source: string,
  ) {
    super(`invalid relay config (${source}):\n  ${errors.join('\n  ')}`);
    this.name = 'RelayConfigError';
  }
}

/** Validates and fills defaults; file paths resolve against `baseDir` (the config file's folder). */
export function parseRelayConfig(obj: unknown, opts: { baseDir?: string; source?: string } = {}): RelayNodeConfig {
  const source = opts.source ?? 'object';
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new RelayConfigError(['/: must be a mapping'], source);
  const filled = Value.Default(RelayNodeConfigSchema, Value.Clone(obj));
  const errors = schemaErrors(RelayNodeConfigSchema, filled);
  if (errors.length) throw new RelayConfigError(errors, source);
  const c = filled as RelayNodeConfig;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(opts.baseDir ?? process.cwd(), p));
  c.hubPublicKey = abs(c.hubPublicKey);
  if (c.tls) c.tls = { cert: abs(c.tls.cert), key: abs(c.tls.key) };
  if (c.metrics.tokenFile) c.metrics.tokenFile = abs(c.metrics.tokenFile);
  if (!c.tls && !c.listen.allowInsecure && !isLoopbackHost(c.listen.host)) {
    errors.push(`/listen: plain ws:// on ${c.listen.host}, a non-loopback address, would carry tickets and video in clear: give tls, or set listen.allowInsecure: true`);
  }
  for (const [id, src] of Object.entries(c.cameras)) {
    if (!src.url) errors.push(`/cameras/${id}: give \`url\`, the camera's live stream (a relay node serves live video only)`);
    if (src.password && !src.username) errors.push(`/cameras/${id}: a password without a username`);
  }
  if (Object.keys(c.cameras).length === 0) errors.push('/cameras: no cameras: list the cameras this node serves (the same ids as under video.nodes.<id>.cameras in hub.yaml)');
  if (errors.length) throw new RelayConfigError(errors, source);
  return c;
}

export function loadRelayConfig(file: string): RelayNodeConfig {
  let obj: unknown;
  try {
    obj = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RelayConfigError([`cannot read ${file}: ${(err as Error).message}`], file);
  }
  return parseRelayConfig(obj, { baseDir: dirname(resolve(file)), source: file });
}

/** Refusal counter labels of a node: the ticket checks, then the relay's own. */
export const NODE_REFUSALS = ['missing_ticket', 'bad_ticket', 'expired', 'wrong_audience', 'wrong_camera', 'replayed', 'unknown_camera', 'stream_limit'] as const;

export interface RelayNode {
  /** ws:// or wss:// base of the listener (as bound). */
  url: string;
  address: AddressInfo;
  relay: VideoRelay;
  registry: Registry;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * Starts a relay node: one listener (HTTP or HTTPS) carrying the video WebSockets (VideoRelay, the hub's own relay
 * code) and /metrics (Prometheus: loopback, or a bearer token from `metrics.tokenFile`); anything else is 404.
 * Viewers are admitted on a hub-signed ticket for this node and camera, once, before it expires.
 */
export async function startRelayNode(c: RelayNodeConfig, opts: { log?: Logger; clock?: () => number } = {}): Promise<RelayNode> {
  const log = opts.log ?? pino({ name: `relay-${c.id}`, level: process.env.LOG_LEVEL ?? 'info' });
  const verifier = new TicketVerifier(readTicketPublicKey(c.hubPublicKey), c.id, opts.clock ?? Date.now, c.ticketLeewaySeconds * 1000);
  const metricsToken = c.metrics.tokenFile ? readFileSync(c.metrics.tokenFile, 'utf8').trim() : undefined;
  if (metricsToken !== undefined && metricsToken.length < 16) throw new Error(`${c.metrics.tokenFile}: the metrics token must be at least 16 characters`);

  const registry = new Registry();
  const registers = [registry];
  const refused = new Counter({ name: 'warden_relay_video_refused_total', help: 'Viewers refused by this relay node, by reason', labelNames: ['reason'] as const, registers });
  for (const r of NODE_REFUSALS) refused.inc({ reason: r }, 0);
  const upstream = new Counter({ name: 'warden_relay_video_upstream_failures_total', help: 'ffmpeg runs that ended while viewers watched', registers });
  const closedUpstream = new Counter({ name: 'warden_relay_video_upstream_closed_total', help: 'Live views closed with 4502 after 3 failed pulls in a row', registers });
  const metricsRefused = new Counter({ name: 'warden_relay_metrics_refused_total', help: '/metrics requests refused (not loopback, no or wrong token)', registers });

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '') && !bearerMatches(req.headers.authorization, metricsToken)) {
      metricsRefused.inc();
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized: /metrics needs the node’s metrics token\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => {
        log.error({ err }, 'metrics failed');
        res.writeHead(500).end();
      },
    );
  };
  const server: HttpServer = c.tls
    ? (createHttpsServer({ cert: readFileSync(c.tls.cert), key: readFileSync(c.tls.key) }, onRequest) as unknown as HttpServer)
    : createHttpServer(onRequest);
  // Upgrades other than /video/… are not ours: closed at once.
  server.on('upgrade', (req: IncomingMessage, socket) => {
    if (!isVideoRequest(req.url)) socket.destroy();
  });

  const authorize = async (query: URLSearchParams, camera: string): Promise<VideoAccess> => {
    const t = verifier.check(query.get('ticket'), camera);
    if (!t.ok) return { ok: false, code: closeCode(t.refusal), reason: t.reason, refusal: t.refusal };
    return { ok: true, viewer: t.claims.sub };
  };
  const relay = new VideoRelay(server, {
    config: c,
    authorize,
    log,
    stoppingReason: 'relay node stopping',
    onRefused: (reason) => refused.inc({ reason }),
    onUpstreamFailure: (closed) => (closed ? closedUpstream.inc() : upstream.inc()),
  });
  new Gauge({
    name: 'warden_relay_video_streams',
    help: 'Live streams (ffmpeg processes) running now',
    registers,
    collect() {
      this.set(relay.active().length);
    },
  });
  new Gauge({
    name: 'warden_relay_video_viewers',
    help: 'Live video viewers connected now',
    registers,
    collect() {
      this.set(relay.active().reduce((n, s) => n + s.viewers, 0));
    },
  });

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(c.listen.port, c.listen.host, () => {
      server.off('error', rej);
      res();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${c.tls ? 'wss' : 'ws'}://${host}:${address.port}`;
  log.info({ id: c.id, url, cameras: Object.keys(c.cameras).length, maxStreams: c.maxStreams }, 'relay node ready');
  let closing: Promise<void> | undefined;
  return {
    url,
    address,
    relay,
    registry,
    close: () =>
      (closing ??= (async () => {
        await relay.close();
        server.closeAllConnections?.();
        await new Promise<void>((r) => server.close(() => r()));
      })()),
  };
}

function closeCode(r: TicketRefusal): number {
  return r === 'wrong_camera' ? VIDEO_CLOSE.forbidden : VIDEO_CLOSE.unauthorized;
}

function bearerMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header) return false;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `warden relay --config relay.yaml`: runs until SIGINT/SIGTERM, then closes every viewer and stops every ffmpeg. */
export async function runRelay(opts: { config: string }): Promise<void> {
  let config: RelayNodeConfig;
  try {
    config = loadRelayConfig(opts.config);
  } catch (err) {
    if (err instanceof RelayConfigError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  let node: RelayNode;
  try {
    node = await startRelayNode(config);
  } catch (err) {
    console.error(`relay node did not start: ${(err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  console.log(`Warden relay node ${config.id}: ${node.url}/video/{camera} for ${Object.keys(config.cameras).length} cameras, at most ${config.maxStreams} streams; metrics at /metrics`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      console.log(`${signal}: stopping the relay node...`);
      node.close().then(resolve, (err: unknown) => {
        console.error('relay node did not stop cleanly:', err);
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
