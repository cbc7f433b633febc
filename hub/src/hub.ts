import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

import { AlarmsModule } from './alarms/module.ts';
import { AttendanceModule } from './attendance/module.ts';
import { ApiModule } from './api/module.ts';
import { AuditLog } from './audit.ts';
import { TokenService } from './auth/tokens.ts';
import { UserRepo } from './auth/users.ts';
import { BrokerPolicy } from './broker/policy.ts';
import { TokenBuckets } from './api/rate-limit.ts';
import { CertRevocations } from './broker/revocations.ts';
import { liveAllowed } from './auth/policy.ts';
import { startBroker, type RunningBroker } from './broker/server.ts';
import { durationMs, type HubConfig } from './config.ts';
import { EnergyModule } from './energy/module.ts';
import { HubError } from './errors.ts';
import { FacesModule } from './faces/module.ts';
import { IngestModule } from './ingest/module.ts';
import { LifecycleModule } from './lifecycle/module.ts';
import { HubBus } from './live/bus.ts';
import { LiveFeedModule } from './live/module.ts';
import { createMetrics } from './metrics.ts';
import { startModules, type Clock, type HubContext } from './module.ts';
import { DeviceRepo } from './store/devices.ts';
import { openTelemetryStore } from './store/telemetry-open.ts';
import { DeadLetterRepo, EventRepo, TelemetryIdRepo } from './store/events.ts';
import { GatewayRepo } from './store/gateways.ts';
import { openStateDb } from './store/state-db.ts';
import { Provisioning, type NewUser } from './provisioning.ts';
import { VideoModule } from './video/module.ts';
import { CamerasModule } from './cameras/module.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
export type { NewUser } from './provisioning.ts';

export interface Hub {
  httpUrl: string;
  mqttUrl: string;
  /** MQTT over WebSocket, on the HTTP listener. */
  mqttWsUrl: string;
  http: { host: string; port: number };
  mqtt: { host: string; port: number };
  /** MQTT over TLS (mqtts://), when mqtt.tls is configured. */
  mqttTlsUrl?: string;
  mqttTls?: { host: string; port: number };
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

export interface StartHubOptions {
  /** A pino logger, or false for none (tests). */
  logger?: Logger | false;
  /** The hub clock, handed to every module (default Date.now). */
  clock?: Clock;
}

/**
 * Starts the whole hub: the stores, the MQTT broker (TCP + WebSocket), then the modules in order (alarms, faces,
 * energy, ingest, REST API with the console, live feed). Stopping runs it backwards.
 */
export async function startHub(config: HubConfig, opts: StartHubOptions = {}): Promise<Hub> {
  const log: Logger = opts.logger === false ? pino({ enabled: false }) : (opts.logger ?? pino({ name: 'hub', level: process.env.LOG_LEVEL ?? 'info' }));
  const clock = opts.clock ?? Date.now;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const cleanup: Array<() => Promise<void> | void> = [];
  const undo = async () => {
    for (const fn of cleanup.splice(0).reverse()) await Promise.resolve(fn()).catch((err: unknown) => log.error({ err }, 'stopping the hub: a part failed to close'));
  };
  try {
    const db = openStateDb(join(config.dataDir, 'state.db'));
    cleanup.push(() => {
      db.close();
    });
    const metrics = createMetrics();
    // telemetry.backend: the embedded DuckDB file (default) or an InfluxDB / VictoriaMetrics server (README, "Telemetry backends").
    const telemetry = await openTelemetryStore(config.telemetry, config.dataDir, { registry: metrics.registry, log });
    cleanup.push(() => telemetry.close());

    const bus = new HubBus();
    const gateways = new GatewayRepo(db);
    const devices = new DeviceRepo(db, metrics.registry);
    const events = new EventRepo(db);
    const telemetryIds = new TelemetryIdRepo(db);
    const deadLetters = new DeadLetterRepo(db, config.ingest.deadLetterLimit);
    const users = new UserRepo(db);
    const audit = new AuditLog(db);
    const tokens = new TokenService(config.dataDir, durationMs(config.auth.tokenTtl));
    gateways.markAllOffline();

    const revocations = new CertRevocations(db);
    const provisioning = new Provisioning({ gateways, users, audit, revocations, clock });
    const initialAdminPassword = await provisioning.fromConfig(config);

    let broker: RunningBroker | undefined;
    const policy = new BrokerPolicy({ gateways, metrics, log, publishLimit: new TokenBuckets(config.limits.gatewayMessagesPerSecond, config.limits.gatewayBurst), clientById: (id) => broker?.clientById(id), authFailuresPerMinute: config.auth.mqttAuthFailuresPerMinute, requireClientCert: config.mqtt.tls?.requireClientCert ?? false, isRevoked: (fp) => revocations.isRevoked(fp) });
    broker = await startBroker({ ...config.mqtt, policy, metrics, log });
    const b = broker;
    provisioning.disconnect = (id) => b.disconnectGateway(id);
    cleanup.push(() => b.close());

    const ctx: HubContext = {
      config,
      stores: { db, telemetry, gateways, devices, events, telemetryIds, deadLetters, users, audit },
      bus,
      broker: b,
      commands: {
        devices,
        ttlMs: durationMs(config.commands.ttl),
        isConnected: (gw: string) => b.isConnected(gw),
        publish: (topic: string, payload: string) => b.publish(topic, payload, { qos: 1 as const }),
      },
      tokens,
      metrics,
      log,
      clock,
    };

    // The hub's features, started in this order and stopped in reverse (README, "Modules"). Modules listening on
    // the bus come before ingest, so they see every stored fact; the API after the services its routes use; the
    // live feed on the API's HTTP server. A new feature is one more module in this list.
    const alarms = new AlarmsModule();
    const faces = new FacesModule();
    const energy = new EnergyModule({ alarms });
    const attendance = new AttendanceModule();
    const lifecycle = new LifecycleModule({
      alarms,
      pruneRollups: (before) => energy.service.pruneRollups(before),
      backupStores: () => [{ name: 'energy.duckdb', backupTo: (file) => energy.service.backupTo(file) }],
    });
    const ingest = new IngestModule((client) => policy.gateway(client));
    const api = new ApiModule({
      version: VERSION,
      alarms,
      faces,
      energy,
      attendance,
      createGateway: async (id, name) => {
        if (gateways.exists(id)) throw new HubError('gateway_exists', id);
        return provisioning.gateway(id, name, undefined, 'api');
      },
      gatewayCredentials: { rotate: (id, pw, actor) => provisioning.rotateGateway(id, pw, actor), revokeCert: (id, fp, actor) => provisioning.revokeGatewayCert(id, fp, actor) },
      logger: opts.logger === false ? false : log,
    });
    // Every live message passes the access policy (role and scope) and then the attendance module's own filter.
    const live = new LiveFeedModule(
      () => api.server,
      (user, channel, msg) =>
        liveAllowed(user, channel, msg, { deviceOf: (id) => devices.get(id), dormBuildings: (u) => config.faces.dormManagers[u] ?? [] }) &&
        attendance.mayReceive(user, config, channel, msg),
    );
    // Live video and snapshots (issue 10) on the API's HTTP server.
    const video = new VideoModule(() => api.server);
    const cameras = new CamerasModule();
    const modules = await startModules([alarms, faces, energy, attendance, cameras, lifecycle, ingest, api, video, live], ctx);
    cleanup.push(() => modules.stop());

    const http = api.address;
    const mqtt = b.address;
    let stopping: Promise<void> | undefined;
    const tlsHttp = config.http.tls !== undefined;
    const plainMqtt = config.mqtt.plain ?? !config.mqtt.tls;
    const hub: Hub = {
      httpUrl: `${tlsHttp ? 'https' : 'http'}://${urlHost(http.host)}:${http.port}`,
      mqttUrl: `${plainMqtt ? 'mqtt' : 'mqtts'}://${urlHost(mqtt.host)}:${mqtt.port}`,
      mqttWsUrl: `${tlsHttp ? 'wss' : 'ws'}://${urlHost(http.host)}:${http.port}${config.mqtt.websocketPath}`,
      http,
      mqtt,
      ...(b.tlsAddress ? { mqttTls: b.tlsAddress, mqttTlsUrl: `mqtts://${urlHost(b.tlsAddress.host)}:${b.tlsAddress.port}` } : {}),
      ...(initialAdminPassword ? { initialAdminPassword } : {}),
      provisionGateway: (id, name, password) => provisioning.gateway(id, name, password),
      createUser: (u) => provisioning.user(u),
      stop: () => {
        // The modules in reverse (live feed, API, ingest drains, energy, faces, alarms), then the broker, the stores last.
        stopping ??= undo();
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
