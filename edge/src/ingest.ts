import Type from 'typebox';
import type { Logger } from 'pino';
import {
  EVENT_SCHEMAS,
  EventRecordSchema,
  RateLimitedLog,
  TelemetryRecordSchema,
  compile,
  parseJson,
  type RejectReason,
  type UplinkRecord,
  MAX_TS,
  MIN_TS,
} from '@warden/contract';
import type { DeviceRuntime } from './devices.ts';
import { NativeInputError, isRejection, type CommandReply, type DeviceContext, type Emission, type Rejection } from './driver.ts';
import type { EdgeMetrics } from './metrics.ts';
import { OutboxFullError, type NewRecord, type Outbox, type DeliveryKey } from './outbox.ts';
import type { Delivery } from './field-broker.ts';
import { createHash } from 'node:crypto';

// id and seq are given by the outbox; everything else a driver produced is checked before it is committed,
// so a driver bug shows up here as a counted rejection instead of a dead letter at the hub.
const eventCheck = compile(Type.Omit(EventRecordSchema, ['id', 'seq']));
const telemetryCheck = compile(Type.Omit(TelemetryRecordSchema, ['id', 'seq']));
const dataChecks = new Map(Object.entries(EVENT_SCHEMAS).map(([type, schema]) => [type, compile(schema)]));

// The contract's timestamp range; a device clock outside it (an unset RTC says 1970) is not believed.

export interface IngestDeps {
  devices: ReadonlyMap<string, DeviceRuntime>;
  outbox: Outbox;
  metrics: EdgeMetrics;
  logger: Logger;
  /** After records are committed: the hub link sends them. */
  onRecords(records: UplinkRecord[]): void;
  /** A device answered a command. */
  onReply(deviceId: string, reply: CommandReply): void;
  now?: () => number;
}

/**
 * Native field message in, committed contract records out. Every refusal is counted by reason and
 * logged at a bounded rate; only a failing outbox (disk full, I/O error) throws, so the caller can
 * refuse the message to the device instead of acknowledging something that was not stored.
 */
export class FieldIngest {
  private readonly log: RateLimitedLog;
  private readonly now: () => number;

  constructor(private readonly deps: IngestDeps) {
    this.log = new RateLimitedLog(deps.logger);
    this.now = deps.now ?? Date.now;
  }

  refuse(reason: RejectReason, fields: Record<string, unknown>, msg: string): void {
    this.deps.metrics.rejected(reason);
    this.log.warn(reason, fields, msg);
  }

  handle(deviceId: string, topic: string, payload: Buffer, delivery?: Delivery): void {
    const device = this.deps.devices.get(deviceId);
    if (!device) return this.refuse('unknown_device', { device: deviceId, topic }, 'message from a device that is not in the gateway config');
    const handler = device.topics.get(topic);
    if (!handler) return this.refuse('unknown_topic', { device: deviceId, topic }, `topic is not part of the ${device.driver.name} protocol`);
    const parsed = parseJson(payload);
    if (!parsed.ok) return this.refuse('malformed_json', { device: deviceId, topic, detail: parsed.detail }, 'payload is not JSON');
    if (!handler.check.check(parsed.value)) {
      const detail = handler.check.explain(parsed.value);
      return this.refuse('schema_invalid', { device: deviceId, topic, detail }, `payload does not match the ${device.driver.name} protocol`);
    }
    if (handler.type === 'reply') {
      this.deps.onReply(deviceId, handler.decoder.reply(parsed.value as never));
      return;
    }
    let key: DeliveryKey | undefined;
    if (delivery) {
      const hash = createHash('sha1').update(topic).update('\0').update(payload).digest('base64');
      key = { device: deviceId, messageId: delivery.messageId, hash, connection: delivery.connection };
      if (this.deps.outbox.isRedelivery(key)) {
        this.deps.metrics.redelivery();
        this.log.warn('redelivery', { device: deviceId, topic, messageId: delivery.messageId }, 'device resent a message already stored (its acknowledgement was lost); not stored again');
        return;
      }
    }
    const now = this.now();
    let result: Emission[] | Rejection;
    try {
      const ctx: DeviceContext<unknown, unknown> = { id: deviceId, options: device.options, state: device.state, now };
      result = handler.uplink.decode(parsed.value as never, ctx as never);
    } catch (err) {
      const bug = !(err instanceof NativeInputError);
      if (bug) this.deps.logger.error({ err, device: deviceId, topic }, 'driver failed on a payload that passed its schema');
      return this.refuse('schema_invalid', { device: deviceId, topic, detail: (err as Error).message }, 'payload could not be decoded');
    }
    if (isRejection(result)) return this.refuse(result.rejected, { device: deviceId, topic, detail: result.detail }, 'payload refused by driver');
    this.commit(deviceId, result, now, topic, key);
  }

  /**
   * Checks and commits what one message (or one agent-side event, like availability) produced,
   * all or nothing. Returns the committed records, or null when they were refused.
   */
  commit(deviceId: string, emissions: readonly Emission[], now = this.now(), topic?: string, delivery?: DeliveryKey): UplinkRecord[] | null {
    if (emissions.length === 0) {
      if (delivery) this.deps.outbox.append([], delivery);
      return [];
    }
    const records: NewRecord[] = [];
    for (const e of emissions) {
      let ts = e.ts ?? now;
      if (!Number.isFinite(ts) || ts < MIN_TS || ts > MAX_TS) {
        this.deps.metrics.clockFallback();
        this.log.warn('clock', { device: deviceId, topic, ts: e.ts }, 'device time is implausible; using gateway time');
        ts = now;
      }
      const record: NewRecord =
        e.kind === 'event'
          ? { device: deviceId, ts, kind: 'event', type: e.type, data: e.data }
          : { device: deviceId, ts, kind: 'telemetry', metrics: e.metrics };
      const problem = checkRecord(record);
      if (problem) {
        this.refuse('schema_invalid', { device: deviceId, topic, detail: problem }, 'decoded record does not match the contract');
        return null;
      }
      records.push(record);
    }
    let committed: UplinkRecord[];
    try {
      committed = this.deps.outbox.append(records, delivery);
    } catch (err) {
      // Disk full with nothing left to shed: telemetry and routine events are counted as shed and acknowledged
      // (a device resending them in a loop helps no one); a safety record is refused so the device keeps it.
      if (!(err instanceof OutboxFullError) || err.classes.has('safety')) throw err;
      this.deps.outbox.countShed(records);
      this.log.warn('outbox_full', { device: deviceId, topic, records: records.length, err: err.message }, 'outbox full (disk): records shed and counted');
      return [];
    }
    for (const r of committed) this.deps.metrics.records(r.kind);
    this.deps.onRecords(committed);
    return committed;
  }
}

function checkRecord(r: NewRecord): string | null {
  if (r.kind === 'telemetry') return telemetryCheck.check(r) ? null : telemetryCheck.explain(r);
  if (!eventCheck.check(r)) return eventCheck.explain(r);
  const data = dataChecks.get(r.type);
  if (!data) return `event type ${r.type} is not in the contract`;
  return data.check(r.data) ? null : `${r.type} data: ${data.explain(r.data)}`;
}
