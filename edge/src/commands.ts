import type { Logger } from 'pino';
import { RateLimitedLog, isCommandAction, parseJson, validateCommand, type RejectReason } from '@warden/contract';
import type { DeviceRuntime } from './devices.ts';
import type { CommandReply, Emission, NativeMessage } from './driver.ts';
import type { EdgeMetrics } from './metrics.ts';

export interface CommandRouterDeps {
  devices: ReadonlyMap<string, DeviceRuntime>;
  isOnline(deviceId: string): boolean;
  /** Sends a native command to a device over its driver's transport. */
  sendNative(device: DeviceRuntime, msg: NativeMessage): Promise<void>;
  /** Commits records for a device (the outcome goes to the hub through the outbox like any record). */
  emit(deviceId: string, emissions: Emission[]): void;
  refuse(reason: RejectReason, fields: Record<string, unknown>, msg: string): void;
  metrics: EdgeMetrics;
  logger: Logger;
  timeoutMs: number;
  now?: () => number;
}

interface Pending {
  device: string;
  action: string;
  timer: NodeJS.Timeout;
}

const MAX_ERROR = 500; // command.result error length in the contract
const MAX_COMMAND_REF = 128; // command.result command length in the contract
// Command ids seen recently: a QoS 1 redelivery of a command must not unlock a door twice.
const REMEMBERED = 1000;

/**
 * Hub command -> driver -> native command over the device's transport; the device's reply (or its absence)
 * -> `command.result`. Every command the gateway could identify gets exactly one result.
 */
export class CommandRouter {
  private readonly pending = new Map<string, Pending>();
  private readonly seen = new Set<string>();
  private readonly log: RateLimitedLog;
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly d: CommandRouterDeps) {
    this.log = new RateLimitedLog(d.logger);
    this.now = d.now ?? Date.now;
  }

  private result(device: string, command: string, action: string, ok: boolean, error?: string): void {
    const data = { command, action: action.slice(0, 64), ok, ...(error === undefined ? {} : { error: error.slice(0, MAX_ERROR) }) };
    this.d.emit(device, [{ kind: 'event', type: 'command.result', data }]);
  }

  private fail(cmd: { id: string; device: string; action: string }, error: string): void {
    this.d.metrics.command('refused');
    this.result(cmd.device, cmd.id, cmd.action, false, error);
  }

  handle(payload: Buffer): void {
    if (this.stopped) return;
    const parsed = parseJson(payload);
    if (!parsed.ok) return this.d.refuse('malformed_json', { detail: parsed.detail }, 'command is not JSON');
    const v = validateCommand(parsed.value);
    if (!v.ok) {
      this.d.refuse(v.reason, { detail: v.detail }, 'invalid command');
      // Answer when the command can still be identified, so the operator sees why nothing happened.
      // `null` is JSON too (found by fuzzing: reading its id threw out of the MQTT handler)
      const c = (parsed.value ?? {}) as Partial<Record<'id' | 'device' | 'action', unknown>>;
      // Only an id a command.result can carry (found by fuzzing: a longer one made a result the gateway itself refused).
      if (typeof c.id === 'string' && c.id.length > 0 && c.id.length <= MAX_COMMAND_REF && typeof c.device === 'string' && this.d.devices.has(c.device)) {
        this.fail({ id: c.id, device: c.device, action: typeof c.action === 'string' && c.action ? c.action : 'unknown' }, v.detail);
      }
      return;
    }
    const cmd = v.value;
    if (this.seen.has(cmd.id)) {
      this.d.logger.debug({ command: cmd.id }, 'command already handled; ignoring the redelivery');
      return;
    }
    this.remember(cmd.id);
    if (cmd.expiresAt !== undefined && this.now() > cmd.expiresAt) {
      this.d.refuse('expired', { command: cmd.id, device: cmd.device, expiresAt: cmd.expiresAt }, 'command arrived after it expired');
      return this.fail(cmd, 'expired');
    }
    const device = this.d.devices.get(cmd.device);
    if (!device) {
      this.d.refuse('unknown_device', { command: cmd.id, device: cmd.device }, 'command for a device this gateway does not have');
      return this.fail(cmd, `unknown device ${cmd.device}`);
    }
    const encode = isCommandAction(cmd.action) ? device.driver.commands[cmd.action] : undefined;
    if (!encode) return this.fail(cmd, `action ${cmd.action} is not supported by ${device.driver.name} devices`);
    if (!this.d.isOnline(device.id)) return this.fail(cmd, 'device offline');

    const native = (encode as (p: unknown, c: unknown) => NativeMessage)(cmd.params, { id: device.id, options: device.options, ref: cmd.id });
    const timer = setTimeout(() => this.settle(cmd.id, false, 'timeout', 'timeout'), this.d.timeoutMs);
    this.pending.set(cmd.id, { device: device.id, action: cmd.action, timer });
    this.d.metrics.command('sent');
    this.d.sendNative(device, native).catch((err: Error) => this.settle(cmd.id, false, `could not send to the device: ${err.message}`, 'failed'));
  }

  /** A device's reply to a native command. */
  onReply(deviceId: string, reply: CommandReply): void {
    const p = this.pending.get(reply.ref);
    if (!p || p.device !== deviceId) {
      this.log.warn('unmatched_reply', { device: deviceId, ref: reply.ref }, 'command reply matches no pending command (late after a timeout, or not ours)');
      return;
    }
    this.settle(reply.ref, reply.ok, reply.ok ? undefined : (reply.error ?? 'device reported failure'), reply.ok ? 'ok' : 'failed');
  }

  private settle(id: string, ok: boolean, error: string | undefined, outcome: 'ok' | 'failed' | 'timeout'): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    this.d.metrics.command(outcome);
    this.result(p.device, id, p.action, ok, error);
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.values().next().value!);
  }

  pendingCount(): number {
    return this.pending.size;
  }

  /** Commands still waiting get a failed result, so none is left without an answer. */
  stop(): void {
    for (const id of [...this.pending.keys()]) this.settle(id, false, 'gateway agent stopped before the device replied', 'failed');
    this.stopped = true;
  }
}
