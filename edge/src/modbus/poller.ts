import ModbusSerial from 'modbus-serial';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { RateLimitedLog } from '@warden/contract';
import Type, { type Static } from 'typebox';
import { oneOf, type Emission } from '../driver.ts';
import { decodeBlock } from './codec.ts';
import { span, type RegisterMap } from './register-map.ts';
import { REGISTER_MAPS, REGISTER_MAP_NAMES } from './register-maps/index.ts';

// modbus-serial is CommonJS: under NodeNext its default import is module.exports, which is the client class itself.
const ModbusRTU = ModbusSerial as unknown as typeof ModbusSerial.default;

/**
 * Per-device connection settings of a polled Modbus TCP device: the modbus-tcp transport's options,
 * which every driver on that transport includes in its options schema (drivers/modbus-meter.ts).
 */
export const ModbusConnectionOptions = Type.Object({
  host: Type.String({ minLength: 1, description: 'address of the meter or its Modbus TCP converter' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 502, description: 'Modbus TCP port' }),
  unitId: Type.Integer({ minimum: 0, maximum: 255, default: 1, description: 'Modbus unit (slave) id' }),
  map: oneOf(REGISTER_MAP_NAMES as [string, ...string[]]),
  pollSeconds: Type.Number({ minimum: 0.05, maximum: 3600, default: 60, description: 'reading period' }),
  timeoutMs: Type.Integer({ minimum: 50, maximum: 60_000, default: 3000, description: 'a request without an answer in this time fails' }),
  offlineAfterFailures: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'consecutive failed polls before device.offline' }),
});
export type ModbusMeterOptions = Static<typeof ModbusConnectionOptions>;

export interface ModbusPollerDeps {
  deviceId: string;
  options: ModbusMeterOptions;
  /** Commits telemetry through the agent's ingest path (contract check, outbox, hub link). */
  emit(deviceId: string, emissions: Emission[]): void;
  /** Availability changes, folded like the field broker's into device.online / device.offline. */
  onAvailability(deviceId: string, online: boolean, reason: 'timeout' | 'disconnect'): void;
  registry: Registry;
  logger: Logger;
  now?: () => number;
}

export type ModbusErrorReason = 'connect' | 'timeout' | 'exception' | 'invalid_value' | 'io';

// One set of counters per registry (an agent), shared by its pollers.
const countersByRegistry = new WeakMap<Registry, { polls: Counter<'device'>; errors: Counter<'device' | 'reason'> }>();
function counters(registry: Registry) {
  let c = countersByRegistry.get(registry);
  if (!c) {
    c = {
      polls: new Counter({ name: 'warden_edge_modbus_polls_total', help: 'Modbus meter polls that produced a reading', labelNames: ['device'], registers: [registry] }),
      errors: new Counter({ name: 'warden_edge_modbus_errors_total', help: 'failed Modbus requests by reason', labelNames: ['device', 'reason'], registers: [registry] }),
    };
    countersByRegistry.set(registry, c);
  }
  return c;
}

function classify(err: unknown): ModbusErrorReason {
  const e = err as { name?: string; errno?: string; code?: string; modbusCode?: number; message?: string };
  if (e.modbusCode !== undefined) return 'exception';
  if (e.name === 'TransactionTimedOutError' || e.errno === 'ETIMEDOUT' || /timed out/i.test(e.message ?? '')) return 'timeout';
  if (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ENOTFOUND' || e.errno === 'ECONNREFUSED') return 'connect';
  return 'io';
}

/**
 * Polls one Modbus TCP meter: one block read per poll covering its register map, decoded into contract
 * telemetry. A failed poll is counted by reason, the connection is dropped and made again on the next
 * poll (the converter may have rebooted); after `offlineAfterFailures` consecutive failures the meter is
 * reported offline, and online again with its next good reading. Polls never overlap.
 */
export class ModbusPoller {
  private readonly map: RegisterMap;
  private readonly client = new ModbusRTU();
  private readonly log: RateLimitedLog;
  private readonly counters: ReturnType<typeof counters>;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private stopped = false;
  private failures = 0;
  private online: boolean | undefined;

  constructor(private readonly deps: ModbusPollerDeps) {
    const map = REGISTER_MAPS.get(deps.options.map);
    if (!map) throw new Error(`device ${deps.deviceId}: unknown register map ${deps.options.map}`);
    this.map = map;
    this.log = new RateLimitedLog(deps.logger);
    this.counters = counters(deps.registry);
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.pollOnce().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(tick, this.deps.options.pollSeconds * 1000);
      });
    };
    tick();
  }

  /** One poll; resolves whether it worked (errors are counted, never thrown). */
  async pollOnce(): Promise<boolean> {
    const { deviceId, options } = this.deps;
    try {
      if (!this.client.isOpen) {
        await this.client.connectTCP(options.host, { port: options.port, timeout: options.timeoutMs } as never);
        this.client.setID(options.unitId);
        this.client.setTimeout(options.timeoutMs);
      }
      const { start, count } = span(this.map);
      const res = this.map.table === 'input' ? await this.client.readInputRegisters(start, count) : await this.client.readHoldingRegisters(start, count);
      const { metrics, invalid } = decodeBlock(res.data, start, this.map.registers);
      if (invalid.length) this.fail('invalid_value', new Error(`not a number: ${invalid.join(', ')}`), false);
      if (Object.keys(metrics).length === 0) return false;
      this.counters.polls.inc({ device: deviceId });
      this.failures = 0;
      this.setOnline(true);
      this.deps.emit(deviceId, [{ kind: 'telemetry', metrics, ts: this.now() }]);
      return true;
    } catch (err) {
      this.fail(classify(err), err, true);
      return false;
    }
  }

  private fail(reason: ModbusErrorReason, err: unknown, dropConnection: boolean): void {
    const { deviceId, options } = this.deps;
    this.counters.errors.inc({ device: deviceId, reason });
    this.log.warn(`modbus:${deviceId}:${reason}`, { device: deviceId, host: options.host, port: options.port, reason, err: (err as Error).message }, 'Modbus meter poll failed');
    if (!dropConnection) return;
    this.closeClient();
    this.failures += 1;
    if (this.failures >= options.offlineAfterFailures) this.setOnline(false, reason === 'timeout' ? 'timeout' : 'disconnect');
  }

  private setOnline(online: boolean, reason: 'timeout' | 'disconnect' = 'disconnect'): void {
    if (this.online === online) return;
    this.online = online;
    this.deps.onAvailability(this.deps.deviceId, online, reason);
  }

  private closeClient(): void {
    try {
      if (this.client.isOpen) this.client.close(() => {});
      else (this.client as unknown as { _port?: { destroy?: () => void } })._port?.destroy?.();
    } catch {
      // closing a socket that already failed; nothing left to release
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await new Promise<void>((resolve) => {
      if (!this.client.isOpen) return resolve();
      this.client.close(() => resolve());
    });
  }
}
