import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { pino, type Logger } from 'pino';
import { allGatewaysTopic, compile, isValidGatewayId, parseGatewayTopic, type GatewayChannel } from '@warden/contract';

import { AlarmEngine } from './alarms/engine.ts';
import { alarmSettings } from './alarms/settings.ts';
import { AlarmRepo } from './alarms/store.ts';
import { buildApi } from './api/app.ts';
import { AuditLog } from './audit.ts';
import { LoginLimiter } from './auth/login-limiter.ts';
import { hashPassword, randomPassword, verifyPassword } from './auth/passwords.ts';
import { TokenService } from './auth/tokens.ts';
import { UserRepo } from './auth/users.ts';
import { BrokerPolicy } from './broker/policy.ts';
import { startBroker, type RunningBroker } from './broker/server.ts';
import { UserSchema, durationMs, type HubConfig, type Role } from './config.ts';
import { HubError } from './errors.ts';
import { Ingestor } from './ingest/ingestor.ts';
import { HubBus } from './live/bus.ts';
import { startLiveFeed } from './live/feed.ts';
import { createMetrics } from './metrics.ts';
import { FaceAdmin } from './faces/service.ts';
import { DeviceRepo } from './store/devices.ts';
import { DuckDbTelemetryStore } from './store/duckdb-telemetry.ts';
import { DeadLetterRepo, EventRepo, TelemetryIdRepo } from './store/events.ts';
import { GatewayRepo } from './store/gateways.ts';
import { openStateDb } from './store/state-db.ts';
import { SchedulePlanStore } from './energy/schedules/plan-store.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const INGESTED: readonly GatewayChannel[] = ['up', 'status', 'inventory'];
const userV = compile(UserSchema);

export interface NewUser {
  username: string;
  displayName?: string;
  roles: Role[];
  password: string;
}

export interface Hub {
  httpUrl: string;
  mqttUrl: string;
  /** MQTT over WebSocket, on the HTTP listener. */
  mqttWsUrl: string;
  http: { host: string; port: number };
  mqtt: { host: string; port: number };
  /** Set only on the start that created the admin user with a generated password: show it once. */
  initialAdminPassword?: string;
  /** Creates the gateway, or resets its password (and name) when it exists. Without a password one is generated. */
  provisionGateway(id: string, name?: string, password?: string): Promise<{ id: string; password: string }>;
  createUser(u: NewUser): Promise<void>;
  stop(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts the whole hub: stores, MQTT broker (TCP + WebSocket), ingest, REST API, live feed and console. */
export async function startHub(config: HubConfig, opts: { logger?: Logger | false } = {}): Promise<Hub> {
  const log: Logger = opts.logger === false ? pino({ enabled: false }) : (opts.logger ?? pino({ name: 'hub', level: process.env.LOG_LEVEL ?? 'info' }));
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const cleanup: Array<() => Promise<void> | void> = [];
  const undo = async () => {
    for (const fn of cleanup.reverse()) await Promise.resolve(fn()).catch(() => {});
  };
  try {
    const db = openStateDb(join(config.dataDir, 'state.db'));
    cleanup.push(() => {
      db.close();
    });
    const telemetry = await DuckDbTelemetryStore.open(join(config.dataDir, 'telemetry.duckdb'));
    cleanup.push(() => telemetry.close());

    const metrics = createMetrics();
    const bus = new HubBus();
    const gateways = new GatewayRepo(db);
    const devices = new DeviceRepo(db);
    const events = new EventRepo(db);
    const telemetryIds = new TelemetryIdRepo(db);
    const deadLetters = new DeadLetterRepo(db, config.ingest.deadLetterLimit);
    const users = new UserRepo(db);
    const audit = new AuditLog(db);
    const tokens = new TokenService(config.dataDir, durationMs(config.auth.tokenTtl));
    gateways.markAllOffline();

    const provisionGateway = async (id: string, name?: string, password?: string, actor = 'system') => {
      if (!isValidGatewayId(id)) throw new Error(`invalid gateway id ${JSON.stringify(id)}`);
      const pw = password ?? randomPassword();
      if (pw.length < 8) throw new Error('a gateway password needs at least 8 characters');
      const existing = gateways.passwordHash(id);
      if (existing && (await verifyPassword(existing, pw))) {
        if (name !== undefined) gateways.setPassword(id, existing, name);
        return { id, password: pw };
      }
      const hash = await hashPassword(pw);
      if (existing) gateways.setPassword(id, hash, name ?? null);
      else gateways.create(id, name ?? null, hash);
      audit.record(actor, existing ? 'gateway.password_reset' : 'gateway.create', id, { name: name ?? null });
      return { id, password: pw };
    };
    const createUser = async (u: NewUser, actor = 'system') => {
      if (!userV.check(u)) throw new Error(`invalid user: ${userV.explain(u)}`);
      if (users.exists(u.username)) throw new Error(`user ${u.username} already exists`);
      users.create({ username: u.username, displayName: u.displayName ?? u.username, roles: [...u.roles] }, await hashPassword(u.password));
      audit.record(actor, 'user.create', u.username, { roles: u.roles });
    };

    let initialAdminPassword: string | undefined;
    if (!users.exists('admin')) {
      const password = config.admin.password ?? randomPassword(12);
      if (!config.admin.password) initialAdminPassword = password;
      await createUser({ username: 'admin', displayName: 'Administrator', roles: ['admin'], password });
    }
    for (const u of config.users) if (!users.exists(u.username)) await createUser({ ...u, roles: [...u.roles] }, 'config');
    await Promise.all(config.gateways.map((g) => provisionGateway(g.id, g.name, g.password, 'config')));

    let broker: RunningBroker | undefined;
    const policy = new BrokerPolicy({ gateways, metrics, log, clientById: (id) => broker?.clientById(id) });
    broker = await startBroker({ ...config.mqtt, policy, metrics, log });
    const b = broker;
    cleanup.push(() => b.close());

    const ingestor = new Ingestor({
      db,
      gateways,
      devices,
      events,
      telemetryIds,
      deadLetters,
      telemetry,
      metrics,
      log,
      bus,
      autoRegister: config.devices.autoRegister,
      publish: (topic, payload, qos) => b.publish(topic, payload, { qos }),
    });
    cleanup.push(() => ingestor.idle());
    for (const channel of INGESTED) {
      await b.subscribe(allGatewaysTopic(channel), async (packet) => {
        const t = parseGatewayTopic(packet.topic);
        if (t) await ingestor.handle(t.gatewayId, t.channel, packet.payload as Buffer);
      });
    }
    b.aedes.on('clientReady', (client) => {
      const gw = policy.gateway(client);
      if (gw) void ingestor.gatewayConnected(gw);
    });
    b.aedes.on('clientDisconnect', (client) => {
      const gw = policy.gateway(client);
      if (gw && !b.isConnected(gw)) void ingestor.gatewayDisconnected(gw);
    });

    const commands = {
      devices,
      ttlMs: durationMs(config.commands.ttl),
      isConnected: (gw: string) => b.isConnected(gw),
      publish: (topic: string, payload: string) => b.publish(topic, payload, { qos: 1 as const }),
    };
    const faces = new FaceAdmin({
      db,
      dataDir: config.dataDir,
      config: config.faces,
      audit,
      publish: (topic, payload) => b.publish(topic, payload, { qos: 1 }),
      isConnected: (gw) => b.isConnected(gw),
      registry: metrics.registry,
      log: log.child({ part: 'faces' }),
    });
    cleanup.push(() => faces.close());
    // A gateway's status says which gallery version it holds; the sync answers with what is missing.
    await b.subscribe(allGatewaysTopic('status'), async (packet) => {
      const t = parseGatewayTopic(packet.topic);
      if (t) await faces.sync.onStatus(t.gatewayId, packet.payload as Buffer).catch((err: unknown) => log.error({ err, gateway: t.gatewayId }, 'gallery sync failed'));
    });
    const retention = setInterval(() => {
      faces.retention().catch((err: unknown) => log.error({ err }, 'face retention job failed'));
    }, 3_600_000);
    retention.unref();
    cleanup.push(() => clearInterval(retention));

    const alarmRepo = new AlarmRepo(db);
    const alarms = new AlarmEngine({ repo: alarmRepo, devices, audit, bus, settings: alarmSettings(config.alarms, durationMs), commands, metrics, log });
    // Listening before the API starts: no stored event reaches the live feed without passing the alarm rules.
    if (config.alarms.enabled) alarms.start();
    cleanup.push(() => alarms.stop());

    const api = await buildApi(
      {
        config,
        version: VERSION,
        startedAt: Date.now(),
        users,
        tokens,
        limiter: new LoginLimiter(config.auth.loginAttemptsPerMinute),
        audit,
        gateways,
        devices,
        events,
        telemetry,
        metrics,
        commands,
        alarms: { engine: alarms, repo: alarmRepo },
        faces,
        schedulePlans: new SchedulePlanStore(db),
        mqttClients: () => b.aedes.connectedClients,
        createGateway: async (id, name) => {
          if (gateways.exists(id)) throw new HubError('gateway_exists', id);
          return provisionGateway(id, name, undefined, 'api');
        },
      },
      opts.logger === false ? false : log,
    );
    cleanup.push(() => api.close());
    await api.ready();
    const live = startLiveFeed(api.server, { bus, tokens, users, metrics, log });
    cleanup.push(() => live.close());
    api.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (b.handleUpgrade(req, socket, head)) return;
      // socket.io handles its own path; anything else would otherwise hang open.
      if (!(req.url ?? '').startsWith('/socket.io/')) socket.destroy();
    });
    await api.listen({ host: config.http.host, port: config.http.port });
    const httpAddr = api.server.address();
    if (!httpAddr || typeof httpAddr !== 'object') throw new Error('HTTP listener has no address');

    const dedupWindow = durationMs(config.ingest.telemetryDedupWindow);
    const prune = setInterval(() => {
      try {
        telemetryIds.forgetBefore(Date.now() - dedupWindow);
      } catch (err) {
        log.error({ err }, 'pruning telemetry ids failed');
      }
    }, 3_600_000);
    prune.unref();
    cleanup.push(() => clearInterval(prune));

    const http = { host: config.http.host, port: httpAddr.port };
    const mqtt = b.address;
    let stopping: Promise<void> | undefined;
    const hub: Hub = {
      httpUrl: `http://${urlHost(http.host)}:${http.port}`,
      mqttUrl: `mqtt://${urlHost(mqtt.host)}:${mqtt.port}`,
      mqttWsUrl: `ws://${urlHost(http.host)}:${http.port}${config.mqtt.websocketPath}`,
      http,
      mqtt,
      ...(initialAdminPassword ? { initialAdminPassword } : {}),
      provisionGateway: (id, name, password) => provisionGateway(id, name, password),
      createUser: (u) => createUser(u),
      stop: () => {
        // Order: stop the pruner, the HTTP side, then the broker (gateways' wills are ingested), wait for ingest to
        // drain, and close the stores last.
        stopping ??= (async () => {
          clearInterval(prune);
          clearInterval(retention);
          await live.close();
          await api.close();
          await b.close();
          await ingestor.idle();
          await alarms.stop();
          await faces.close();
          await telemetry.close();
          db.close();
        })();
        return stopping;
      },
    };
    log.info({ http: hub.httpUrl, mqtt: hub.mqttUrl, dataDir: config.dataDir }, 'hub started');
    return hub;
  } catch (err) {
    await undo();
    throw err;
  }
}
