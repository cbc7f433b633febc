import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { AedesPublishPacket } from 'aedes';
import { AuditLog } from '../src/audit.ts';
import { TokenService } from '../src/auth/tokens.ts';
import { UserRepo } from '../src/auth/users.ts';
import { BrokerPolicy } from '../src/broker/policy.ts';
import { startBroker, type RunningBroker } from '../src/broker/server.ts';
import { durationMs, parseHubConfig } from '../src/config.ts';
import { HubBus } from '../src/live/bus.ts';
import { createMetrics } from '../src/metrics.ts';
import type { HubContext } from '../src/module.ts';
import { DeviceRepo } from '../src/store/devices.ts';
import { DuckDbTelemetryStore } from '../src/store/duckdb-telemetry.ts';
import { DeadLetterRepo, EventRepo, TelemetryIdRepo } from '../src/store/events.ts';
import { GatewayRepo } from '../src/store/gateways.ts';
import { openStateDb } from '../src/store/state-db.ts';

export interface TestContext {
  ctx: HubContext;
  /** Moves the context's clock. */
  setNow(ms: number): void;
  /** Commands the hub published to gateways' `cmd` topics (seen by a hub-internal broker subscription). */
  commands: Array<{ id: string; device: string; action: string; params: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * A real module context, as startHub builds it: SQLite state and DuckDB telemetry in a temp dir, a real MQTT broker
 * on an ephemeral port, the hub bus, metrics, and a clock the test moves. Every gateway counts as connected, so
 * commands go out to the broker without a gateway client.
 */
export async function moduleContext(config: Record<string, unknown> = {}, start = Date.UTC(2026, 0, 5, 0, 0)): Promise<TestContext> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-module-test-'));
  const cfg = parseHubConfig({ http: { port: 0 }, mqtt: { port: 0 }, dataDir: dir, dashboard: { dir: join(dir, 'no-dist') }, ...config });
  const log = pino({ enabled: false });
  const db = openStateDb(join(dir, 'state.db'));
  const telemetry = await DuckDbTelemetryStore.open(join(dir, 'telemetry.duckdb'));
  const metrics = createMetrics();
  const gateways = new GatewayRepo(db);
  const devices = new DeviceRepo(db);
  let broker: RunningBroker | undefined;
  const policy = new BrokerPolicy({ gateways, metrics, log, clientById: (id) => broker?.clientById(id) });
  broker = await startBroker({ ...cfg.mqtt, policy, metrics, log });
  const b = broker;
  const commands: TestContext['commands'] = [];
  await b.subscribe('warden/v1/gw/+/cmd', async (p: AedesPublishPacket) => void commands.push(JSON.parse(p.payload.toString())));
  let now = start;
  const ctx: HubContext = {
    config: cfg,
    stores: {
      db,
      telemetry,
      gateways,
      devices,
      events: new EventRepo(db),
      telemetryIds: new TelemetryIdRepo(db),
      deadLetters: new DeadLetterRepo(db, cfg.ingest.deadLetterLimit),
      users: new UserRepo(db),
      audit: new AuditLog(db),
    },
    bus: new HubBus(),
    broker: b,
    commands: { devices, ttlMs: durationMs(cfg.commands.ttl), isConnected: () => true, publish: (topic, payload) => b.publish(topic, payload, { qos: 1 }) },
    tokens: new TokenService(dir, 60_000),
    metrics,
    log,
    clock: () => now,
  };
  return {
    ctx,
    setNow: (ms) => void (now = ms),
    commands,
    async close() {
      await b.close();
      await telemetry.close();
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
