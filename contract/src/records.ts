import Type, { type Static } from 'typebox';
import { CONTRACT_VERSION } from './version.ts';
import { DeviceInfoSchema } from './devices.ts';
import type { EventData, EventType } from './events.ts';

import { DeviceIdSchema as DeviceId, GatewayIdSchema as GatewayId, TimestampSchema } from './primitives.ts';
/** Milliseconds since the Unix epoch, as measured at the source device (or the gateway when the device has no clock). */
const Timestamp = TimestampSchema;
const Version = Type.Literal(CONTRACT_VERSION);

/**
 * Fields every uplink record carries: a globally unique id (the hub deduplicates on it),
 * the gateway's sequence number (strictly increasing per gateway, gives per-device order),
 * the device id and the source timestamp.
 */
const RecordBase = {
  id: Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
  seq: Type.Integer({ minimum: 1 }),
  device: DeviceId,
  ts: Timestamp,
};

/** `data` is checked against EVENT_SCHEMAS[type] in a second step, so errors name the event type. */
export const EventRecordSchema = Type.Object(
  { ...RecordBase, kind: Type.Literal('event'), type: Type.String({ minLength: 1, maxLength: 64 }), data: Type.Object({}) },
  { additionalProperties: false },
);

export const TelemetryRecordSchema = Type.Object(
  {
    ...RecordBase,
    kind: Type.Literal('telemetry'),
    /** Metric name -> value, e.g. { energy_kwh: 1234.5, power_kw: 3.2 }. */
    metrics: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }), Type.Number()),
  },
  { additionalProperties: false },
);

export type EventRecord<T extends EventType = EventType> = Omit<Static<typeof EventRecordSchema>, 'type' | 'data'> & {
  type: T;
  data: EventData<T>;
};
export type TelemetryRecord = Static<typeof TelemetryRecordSchema>;
export type UplinkRecord = EventRecord | TelemetryRecord;

export const MAX_RECORDS_PER_BATCH = 1000;

/**
 * The uplink lane a batch travels on. Absent: the bulk stream, the outbox in seq order, acknowledged cumulatively.
 * 'priority': safety events (fire, intrusion, emergency, forced doors, tamper) sent ahead of the bulk backlog, each with
 * the earlier unacknowledged records of its device (so the hub stores that device's events in order); its seqs are
 * not contiguous, so it is acknowledged by its seqs (PriorityAck), never cumulatively.
 */
export const UplinkLaneSchema = Type.Literal('priority');
export type UplinkLane = Static<typeof UplinkLaneSchema>;

/** Records are checked one by one so that one bad record does not hold back the rest. */
export const UplinkBatchSchema = Type.Object(
  {
    v: Version,
    gw: GatewayId,
    lane: Type.Optional(UplinkLaneSchema),
    records: Type.Array(Type.Object({}), { minItems: 1, maxItems: MAX_RECORDS_PER_BATCH }),
  },
  { additionalProperties: false },
);
export interface UplinkBatch {
  v: typeof CONTRACT_VERSION;
  gw: string;
  lane?: UplinkLane;
  records: UplinkRecord[];
}

/**
 * Acknowledges bulk batches, cumulatively: every record of this gateway with seq <= upTo that was sent on the bulk
 * stream is stored (or rejected and kept as a dead letter). Seqs the gateway sent only in a priority batch are not
 * covered: they wait for their PriorityAck.
 */
export const CumulativeAckSchema = Type.Object({ v: Version, upTo: Type.Integer({ minimum: 0 }) }, { additionalProperties: false });
/** Acknowledges one priority batch by its seqs: exactly these records are stored (or rejected and dead-lettered). */
export const PriorityAckSchema = Type.Object(
  {
    v: Version,
    lane: UplinkLaneSchema,
    seqs: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: MAX_RECORDS_PER_BATCH }),
  },
  { additionalProperties: false },
);
export const AckSchema = Type.Union([CumulativeAckSchema, PriorityAckSchema]);
export type CumulativeAck = Static<typeof CumulativeAckSchema>;
export type PriorityAck = Static<typeof PriorityAckSchema>;
export type Ack = CumulativeAck | PriorityAck;

export const GatewayStatusSchema = Type.Object(
  {
    v: Version,
    gw: GatewayId,
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    ts: Timestamp,
    agentVersion: Type.Optional(Type.String({ maxLength: 32 })),
    startedAt: Type.Optional(Timestamp),
    /** Records waiting in the gateway's outbox. */
    backlog: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * Records the gateway's full outbox shed since it was created, per class (oldest telemetry first, then routine
     * events; alarms and safety events are never shed). Counted, never silently lost.
     */
    outboxShed: Type.Optional(
      Type.Object({ telemetry: Type.Integer({ minimum: 0 }), routine: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    ),
    devicesOnline: Type.Optional(Type.Integer({ minimum: 0 })),
    devicesTotal: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Edge-side counters, e.g. rejected field messages by reason. */
    counters: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Number())),
    /** Face gallery version the gateway holds (contract/src/gallery.ts); the hub sends what is missing. */
    gallery: Type.Optional(Type.Object({ version: Type.Integer({ minimum: 0 }), model: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type GatewayStatus = Static<typeof GatewayStatusSchema>;

export const InventorySchema = Type.Object(
  { v: Version, gw: GatewayId, ts: Timestamp, devices: Type.Array(DeviceInfoSchema, { maxItems: 5000 }) },
  { additionalProperties: false },
);
export type Inventory = Static<typeof InventorySchema>;
