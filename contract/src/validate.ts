import type { TSchema, Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { EVENT_SCHEMAS, isEventType } from './events.ts';
import { COMMAND_SCHEMAS, CommandSchema, isCommandAction, type Command } from './commands.ts';
import {
  CumulativeAckSchema,
  EventRecordSchema,
  PriorityAckSchema,
  GatewayStatusSchema,
  InventorySchema,
  TelemetryRecordSchema,
  UplinkBatchSchema,
  type Ack,
  type GatewayStatus,
  type Inventory,
  type UplinkRecord,
} from './records.ts';
import type { RejectReason } from './reject.ts';
import { schemaErrors } from './schema-errors.ts';

export type Result<T> = { ok: true; value: T } | { ok: false; reason: RejectReason; detail: string };

interface Validator<T> {
  check(value: unknown): value is T;
  /** Up to `max` errors as `path: message`, path in JSON-pointer form ('/' for the root). */
  explain(value: unknown, max?: number): string;
}

export function compile<S extends TSchema>(schema: S): Validator<Static<S>> {
  const c = Compile(schema);
  return {
    check: (value: unknown): value is Static<S> => c.Check(value),
    explain: (value, max = 3) => schemaErrors(schema, value, { max, errors: c.Errors(value) }).join('; '),
  };
}

const batchV = compile(UplinkBatchSchema);
const eventV = compile(EventRecordSchema);
const telemetryV = compile(TelemetryRecordSchema);
const cumulativeAckV = compile(CumulativeAckSchema);
const priorityAckV = compile(PriorityAckSchema);
const statusV = compile(GatewayStatusSchema);
const inventoryV = compile(InventorySchema);
const commandV = compile(CommandSchema);
const eventDataV = new Map(Object.entries(EVENT_SCHEMAS).map(([k, s]) => [k, compile(s)]));
const commandParamsV = new Map(Object.entries(COMMAND_SCHEMAS).map(([k, s]) => [k, compile(s)]));

/** JSON.parse that reports instead of throwing. Buffers are decoded as UTF-8. */
export function parseJson(payload: Buffer | string): Result<unknown> {
  try {
    return { ok: true, value: JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) };
  } catch (err) {
    return { ok: false, reason: 'malformed_json', detail: (err as Error).message };
  }
}

function checked<T>(v: Validator<T>, value: unknown, what: string): Result<T> {
  if (v.check(value)) return { ok: true, value };
  return { ok: false, reason: 'schema_invalid', detail: `${what}: ${v.explain(value)}` };
}

export interface BatchEnvelope {
  v: 1;
  gw: string;
  /** 'priority': a priority-lane batch, acknowledged by its seqs (records.ts). */
  lane?: 'priority';
  records: unknown[];
}

/** Validates the envelope only; records are validated one by one with validateRecord. */
export function validateBatchEnvelope(value: unknown): Result<BatchEnvelope> {
  return checked(batchV, value, 'batch') as Result<BatchEnvelope>;
}

export function validateRecord(value: unknown): Result<UplinkRecord> {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === 'telemetry') return checked(telemetryV, value, 'telemetry record') as Result<UplinkRecord>;
  if (kind !== 'event') return { ok: false, reason: 'schema_invalid', detail: `record: /kind must be 'event' or 'telemetry'` };
  if (!eventV.check(value)) return { ok: false, reason: 'schema_invalid', detail: `event record: ${eventV.explain(value)}` };
  if (!isEventType(value.type)) return { ok: false, reason: 'unknown_type', detail: `event type ${JSON.stringify(value.type)} is not in the contract` };
  const dataV = eventDataV.get(value.type)!;
  if (!dataV.check(value.data)) return { ok: false, reason: 'schema_invalid', detail: `${value.type} data: ${dataV.explain(value.data)}` };
  return { ok: true, value: value as UplinkRecord };
}

/**
 * A cumulative ack ({v, upTo}) or a priority-lane ack ({v, lane: 'priority', seqs}). The shape is chosen by its
 * fields, so an error names what is wrong with the ack it tried to be rather than the union.
 */
export function validateAck(v: unknown): Result<Ack> {
  const o = v as Record<string, unknown> | null;
  const priority = typeof o === 'object' && o !== null && !Array.isArray(o) && ('lane' in o || 'seqs' in o);
  return priority ? checked(priorityAckV, v, 'priority ack') : checked(cumulativeAckV, v, 'ack');
}
export const validateStatus = (v: unknown): Result<GatewayStatus> => checked(statusV, v, 'status');
export const validateInventory = (v: unknown): Result<Inventory> => checked(inventoryV, v, 'inventory');

export function validateCommand(value: unknown): Result<Command> {
  if (!commandV.check(value)) return { ok: false, reason: 'schema_invalid', detail: `command: ${commandV.explain(value)}` };
  if (!isCommandAction(value.action)) return { ok: false, reason: 'unknown_type', detail: `command action ${JSON.stringify(value.action)} is not in the contract` };
  const pv = commandParamsV.get(value.action)!;
  if (!pv.check(value.params)) return { ok: false, reason: 'schema_invalid', detail: `${value.action} params: ${pv.explain(value.params)}` };
  return { ok: true, value: value as Command };
}
