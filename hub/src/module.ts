import type { Logger } from 'pino';
import type { AuditLog } from './audit.ts';
import type { TokenService } from './auth/tokens.ts';
import type { UserRepo } from './auth/users.ts';
import type { RunningBroker } from './broker/server.ts';
import type { CommandDeps } from './commands.ts';
import type { HubConfig } from './config.ts';
import type { HubBus } from './live/bus.ts';
import type { HubMetrics } from './metrics.ts';
import type { DeviceRepo } from './store/devices.ts';
import type { DeadLetterRepo, EventRepo, TelemetryIdRepo } from './store/events.ts';
import type { GatewayRepo } from './store/gateways.ts';
import type { StateDb } from './store/state-db.ts';
import type { TelemetryStore } from './store/telemetry.ts';

/** Milliseconds since the epoch. The hub's one clock: modules read time only through it, so tests can move it. */
export type Clock = () => number;

/** The stores every module may use; opened by startHub before the first module starts, closed after the last stops. */
export interface HubStores {
  /** state.db (SQLite): a module keeps its own tables here (migrations in store/state-db.ts). */
  db: StateDb;
  telemetry: TelemetryStore;
  gateways: GatewayRepo;
  devices: DeviceRepo;
  events: EventRepo;
  telemetryIds: TelemetryIdRepo;
  deadLetters: DeadLetterRepo;
  users: UserRepo;
  audit: AuditLog;
}

/** What a module gets at start. Everything here outlives every module. */
export interface HubContext {
  readonly config: HubConfig;
  readonly stores: HubStores;
  /**
   * Stored facts, in process: `event` (every event ingest made durable, `command.result` included), `device`,
   * `gateway`, `alarm`, `linkage`. Modules listen here; none polls a table for what arrives on the bus.
   */
  readonly bus: HubBus;
  /** The MQTT broker the gateways connect to (hub-internal subscribe and publish, no ACL). */
  readonly broker: RunningBroker;
  /** Sending a device command the way an operator does (contract-validated, to the device's own gateway). */
  readonly commands: CommandDeps;
  readonly tokens: TokenService;
  readonly metrics: HubMetrics;
  /** A child logger with `module: <name>`. */
  readonly log: Logger;
  readonly clock: Clock;
}

/**
 * A feature of the hub with one lifecycle. startHub starts the modules in the order of its list (hub.ts) and stops
 * them in reverse, so a module may use what an earlier one exposes (pass the earlier module to the later one's
 * constructor) and listeners on the bus are in place before ingest delivers anything.
 *
 * - `start` sets the module up: listeners on the bus, broker subscriptions, timers (each `unref()`ed).
 * - `stop` undoes it and waits for work in flight. It is also called when `start` threw, and on a module that was
 *   never started, so it must cope with a partial start (clear only what exists). It is called once.
 */
export interface HubModule {
  readonly name: string;
  start(ctx: HubContext): Promise<void>;
  stop(): Promise<void>;
}

export interface StartedModules {
  /** Stops every started module in reverse order; a failing stop is logged and the others still stop. */
  stop(): Promise<void>;
}

/**
 * Starts `modules` in order with `ctx` (the logger narrowed per module). When one fails to start, it and the ones
 * already started are stopped in reverse order and the error is thrown.
 */
export async function startModules(modules: readonly HubModule[], ctx: HubContext): Promise<StartedModules> {
  const names = new Set<string>();
  for (const m of modules) {
    if (names.has(m.name)) throw new Error(`two hub modules are named ${m.name}`);
    names.add(m.name);
  }
  const started: HubModule[] = [];
  const stopAll = async (): Promise<void> => {
    for (const m of started.splice(0).reverse()) {
      try {
        await m.stop();
      } catch (err) {
        ctx.log.error({ err, module: m.name }, 'hub module failed to stop');
      }
    }
  };
  for (const m of modules) {
    // Pushed first: a module whose start fails is stopped too, before the ones started earlier.
    started.push(m);
    try {
      await m.start({ ...ctx, log: ctx.log.child({ module: m.name }) });
    } catch (err) {
      ctx.log.error({ err, module: m.name }, 'hub module failed to start; stopping the ones started');
      await stopAll();
      throw err;
    }
  }
  let stopping: Promise<void> | undefined;
  return { stop: () => (stopping ??= stopAll()) };
}

/** For a module's accessors: what it exposes exists only between start and stop. */
export function startedOr<T>(value: T | undefined, module: string): T {
  if (value === undefined) throw new Error(`hub module ${module} is not started`);
  return value;
}
