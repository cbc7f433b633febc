import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { AlarmsModule } from '../alarms/module.ts';
import type { AttendanceModule } from '../attendance/module.ts';
import { AccountLockout, LoginLimiter } from '../auth/login-limiter.ts';
import type { EnergyModule } from '../energy/module.ts';
import type { FacesModule } from '../faces/module.ts';
import { startedOr, type HubContext, type HubModule } from '../module.ts';
import { buildApi } from './app.ts';
import { durationMs } from '../config.ts';
import type { ApiApp, ApiServices } from './services.ts';
import { isVideoRequest } from '../video/relay.ts';
import { SnapshotStore } from '../snapshots/store.ts';

export interface ApiModuleOptions {
  version: string;
  /** The modules whose services the routes translate requests to (started before this one). */
  alarms: AlarmsModule;
  faces: FacesModule;
  energy: EnergyModule;
  attendance?: AttendanceModule;
  createGateway(id: string, name: string | undefined): Promise<{ id: string; password: string }>;
  gatewayCredentials?: ApiServices['gatewayCredentials'];
  /** false: no request log at all (tests). */
  logger: Logger | false;
}

/**
 * The HTTP side as a hub module: fastify with the REST API, its OpenAPI description and the console, MQTT over
 * WebSocket handed to the broker on upgrade, listening on `http.host:http.port`. Route plugins only translate
 * requests to the services of the other modules.
 */
export class ApiModule implements HubModule {
  readonly name = 'api';
  private app: ApiApp | undefined;
  private address_: { host: string; port: number } | undefined;

  constructor(private readonly o: ApiModuleOptions) {}

  get server(): HttpServer {
    return startedOr(this.app, this.name).server;
  }

  /** Where it listens (the port the OS gave for port 0). */
  get address(): { host: string; port: number } {
    return startedOr(this.address_, this.name);
  }

  async start(ctx: HubContext): Promise<void> {
    const { config, stores, broker, o } = { ...ctx, o: this.o };
    const app = await buildApi(
      {
        config,
        version: o.version,
        startedAt: ctx.clock(),
        clock: ctx.clock,
        ...stores,
        tokens: ctx.tokens,
        limiter: new LoginLimiter(config.auth.loginAttemptsPerMinute),
        lockout: new AccountLockout(config.auth.lockoutThreshold, durationMs(config.auth.lockoutWindow), ctx.clock, stores.users),
        metrics: ctx.metrics,
        commands: ctx.commands,
        alarms: { engine: o.alarms.engine, repo: o.alarms.repo },
        faces: o.faces.admin,
        energy: o.energy,
        ...(o.attendance ? { attendance: o.attendance.service } : {}),
        snapshots: new SnapshotStore(stores.db, config.dataDir),
        mqttClients: () => broker.aedes.connectedClients,
        createGateway: o.createGateway,
        ...(o.gatewayCredentials ? { gatewayCredentials: o.gatewayCredentials } : {}),
      },
      o.logger === false ? false : ctx.log,
    );
    this.app = app;
    await app.ready();
    app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (broker.handleUpgrade(req, socket, head)) return;
      // socket.io and live video handle their own paths; anything else would otherwise hang open.
      if (!(req.url ?? '').startsWith('/socket.io/') && !isVideoRequest(req.url)) socket.destroy();
    });
    await app.listen({ host: config.http.host, port: config.http.port });
    const addr = app.server.address();
    if (!addr || typeof addr !== 'object') throw new Error('HTTP listener has no address');
    this.address_ = { host: config.http.host, port: addr.port };
  }

  async stop(): Promise<void> {
    await this.app?.close();
  }
}
