import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { HubConfig } from '../config.ts';
import type { AuditLog } from '../audit.ts';
import type { AccountLockout, LoginLimiter } from '../auth/login-limiter.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { UserRepo } from '../auth/users.ts';
import type { CommandDeps } from '../commands.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { AlarmRepo } from '../alarms/store.ts';
import type { HubMetrics } from '../metrics.ts';
import type { DeviceRepo } from '../store/devices.ts';
import type { EventRepo } from '../store/events.ts';
import type { GatewayRepo } from '../store/gateways.ts';
import type { TelemetryStore } from '../store/telemetry.ts';
import type { FaceAdmin } from '../faces/service.ts';
import type { EnergyModule } from '../energy/module.ts';
import type { AttendanceService } from '../attendance/service.ts';
import type { SnapshotStore } from '../snapshots/store.ts';

/** What the routes work with; built once by startHub. */
export interface ApiServices {
  config: HubConfig;
  version: string;
  startedAt: number;
  /** The hub clock (default periods of queries). */
  clock: () => number;
  users: UserRepo;
  tokens: TokenService;
  limiter: LoginLimiter;
  /** Per-account lockout after repeated failures (raises auth.account_locked through the alarm engine). */
  lockout: AccountLockout;
  audit: AuditLog;
  gateways: GatewayRepo;
  devices: DeviceRepo;
  events: EventRepo;
  telemetry: TelemetryStore;
  metrics: HubMetrics;
  commands: CommandDeps;
  alarms: { engine: AlarmEngine; repo: AlarmRepo };
  /** Enrolment and galleries (hub/src/faces). */
  faces?: FaceAdmin;
  /** Energy queries and schedules (hub/src/energy/module.ts). */
  energy: EnergyModule;
  /** Dorm attendance (hub/src/attendance). */
  attendance?: AttendanceService;
  /** Camera snapshots' index and files (hub/src/snapshots); its routes are registered when present. */
  snapshots?: SnapshotStore;
  mqttClients(): number;
  /** Creates a gateway with a fresh password; refuses an existing id. */
  createGateway(id: string, name: string | undefined): Promise<{ id: string; password: string }>;
  /** Gateway credential rotation and certificate revocation, applied live (hub/src/provisioning.ts). */
  gatewayCredentials?: {
    rotate(id: string, password: string | undefined, actor: string): Promise<{ id: string; password: string; disconnected: number }>;
    revokeCert(id: string, fingerprint: string, actor: string): { id: string; fingerprint: string; disconnected: number };
  };
}

export type ApiApp = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;
