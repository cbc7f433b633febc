import Type, { type Static } from 'typebox';
import { MediumSchema, literalUnion } from '../primitives.ts';
import { AlarmSchema } from './alarms.ts';
import { IdParams, MsEpoch, Nullable, type RouteDef } from './common.ts';

/** Bucket widths of consumption series (campus-local days and months). */
export const ENERGY_STEPS = ['15m', '1h', '1d', '1mo'] as const;
export type EnergyStep = (typeof ENERGY_STEPS)[number];

/** Electricity time-of-use bands. */
export const BANDS = ['peak', 'flat', 'valley'] as const;
export type Band = (typeof BANDS)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const ENERGY_NODE_TYPES = ['campus', 'zone', 'building', 'floor', 'dorm'] as const;
export type EnergyNodeType = (typeof ENERGY_NODE_TYPES)[number];

/** Marks on a consumption bucket: the register wrapped, the meter was replaced, or readings are missing. */
export const CONSUMPTION_FLAGS = ['rollover', 'replacement', 'gap'] as const;
export type ConsumptionFlag = (typeof CONSUMPTION_FLAGS)[number];

export const EnergyMeterSchema = Type.Object({
  id: Type.String(),
  medium: MediumSchema,
  unit: Type.String(),
  virtual: Type.Boolean(),
  plus: Type.Optional(Type.Array(Type.String())),
  minus: Type.Optional(Type.Array(Type.String())),
});
export type EnergyMeter = Static<typeof EnergyMeterSchema>;

export interface EnergyNode {
  id: string;
  name: string;
  type: EnergyNodeType;
  use?: string;
  meters: EnergyMeter[];
  children: EnergyNode[];
}

/** Nested nodes of the same shape; described (and serialised) one level deep: children are the same object again. */
export const EnergyNodeSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: literalUnion(ENERGY_NODE_TYPES, { description: 'campus | zone | building | floor | dorm' }),
  use: Type.Optional(Type.String()),
  meters: Type.Array(EnergyMeterSchema),
  children: Type.Unsafe<EnergyNode[]>(Type.Array(Type.Unknown(), { description: 'child nodes, each of this shape' })),
});

export const ConsumptionSchema = Type.Object({
  node: Type.String(),
  kind: literalUnion(['node', 'meter', 'virtual'] as const),
  medium: MediumSchema,
  unit: Type.String(),
  step: literalUnion(ENERGY_STEPS),
  total: Type.Number(),
  points: Type.Array(Type.Tuple([Type.Number(), Type.Number(), Type.Array(literalUnion(CONSUMPTION_FLAGS))]), {
    description: '[bucket start ms, amount, flags (rollover, replacement, gap)]',
  }),
});
export type Consumption = Static<typeof ConsumptionSchema>;

export const AmountsSchema = Type.Object({ amount: Type.Number(), cost: Type.Number() });
export type Amounts = Static<typeof AmountsSchema>;

export const MediumCostSchema = Type.Object({
  medium: MediumSchema,
  unit: Type.String(),
  amount: Type.Number(),
  cost: Type.Number(),
  unpriced: Type.Number({ description: 'consumption no tariff covers (no tariff, or a date outside every validity period)' }),
  byBand: Type.Optional(Type.Object({ peak: AmountsSchema, flat: AmountsSchema, valley: AmountsSchema })),
  byTariff: Type.Array(Type.Object({ tariff: Nullable(Type.String()), amount: Type.Number(), cost: Type.Number() })),
});
export type MediumCost = Static<typeof MediumCostSchema>;

export const CostSchema = Type.Object({ node: Type.String(), from: Type.Number(), to: Type.Number(), total: Type.Number(), media: Type.Array(MediumCostSchema) });
export type Cost = Static<typeof CostSchema>;

/** What the hub's energy anomaly detector reports (hub/src/energy/detection); energy alarm types are `energy.<kind>`. */
export const ENERGY_ANOMALY_KINDS = ['spike', 'drop', 'dropout', 'flat', 'missing', 'night_base_load', 'leak'] as const;
export type EnergyAnomalyKind = (typeof ENERGY_ANOMALY_KINDS)[number];

/** Facilities' "not an anomaly" for a meter's window: kept, and used by the detector (baselines, suppression). */
export const AnomalyFeedbackSchema = Type.Object({
  id: Type.String(),
  meter: Type.String(),
  kind: Nullable(literalUnion(ENERGY_ANOMALY_KINDS, { description: 'only this kind is dismissed; null = any' })),
  from: Type.Number(),
  to: Type.Number(),
  note: Nullable(Type.String()),
  by: Type.String(),
  at: Type.Number(),
});
export type AnomalyFeedback = Static<typeof AnomalyFeedbackSchema>;

/** One hour as the detector saw it: use, expected use and the band outside which it alerts, its flag. */
export const DetectedHourSchema = Type.Object({
  ts: Type.Number({ description: 'start of the hour' }),
  value: Nullable(Type.Number({ description: 'null: not measured' })),
  expected: Nullable(Type.Number({ description: 'null: still learning' })),
  low: Nullable(Type.Number()),
  high: Nullable(Type.Number()),
  z: Nullable(Type.Number()),
  flag: Nullable(literalUnion(ENERGY_ANOMALY_KINDS)),
  dismissed: Type.Boolean({ description: 'inside a "not an anomaly" window' }),
});

/** A detected energy anomaly: its window, numbers and sentence (message key + params for the console, en and zh). */
export const EnergyAlertSchema = Type.Object({
  kind: literalUnion(ENERGY_ANOMALY_KINDS),
  direction: Nullable(literalUnion(['up', 'down'] as const)),
  from: Type.Number(),
  to: Type.Number({ description: 'exclusive' }),
  hours: Type.Number(),
  numbers: Type.Record(Type.String(), Type.Number()),
  text: Type.Object({ key: Type.String(), params: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])), en: Type.String(), zh: Type.String() }),
  suppressedBy: Type.Optional(Type.String({ description: 'the feedback whose pattern keeps this alert from being raised' })),
});
export type EnergyAlert = Static<typeof EnergyAlertSchema>;

/** An alert of the anomaly list: the detector's alert on one meter, with the meter's medium and unit. */
export const AnomalySchema = Type.Object({
  meter: Type.String(),
  medium: MediumSchema,
  unit: Type.String(),
  ...EnergyAlertSchema.properties,
});
export type Anomaly = Static<typeof AnomalySchema>;

export const DetectionSchema = Type.Object({
  meter: Type.String(),
  unit: Type.String(),
  from: Type.Number(),
  to: Type.Number(),
  hours: Type.Array(DetectedHourSchema),
  alerts: Type.Array(EnergyAlertSchema),
});
export type Detection = Static<typeof DetectionSchema>;

export const RegisterProblemSchema = Type.Object({ meter: Type.String(), from: Type.Number(), to: Type.Number(), message: Type.String() });
export type RegisterProblem = Static<typeof RegisterProblemSchema>;

export const AnomaliesSchema = Type.Object({ anomalies: Type.Array(AnomalySchema), registerProblems: Type.Array(RegisterProblemSchema) });
export type Anomalies = Static<typeof AnomaliesSchema>;

// ---- Weekly schedules: the hub config's `energy.schedules[]` entries, also edited in the console.

const Hhmm = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$', description: 'HH:MM campus local time; 24:00 = end of day' });
const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD, campus local date' });

export const SchedulePeriodSchema = Type.Object({ from: Hhmm, to: Hhmm, level: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })) }, { additionalProperties: false });
export type SchedulePeriod = Static<typeof SchedulePeriodSchema>;

export const WeekPlanSchema = Type.Object(
  {
    mon: Type.Optional(Type.Array(SchedulePeriodSchema)),
    tue: Type.Optional(Type.Array(SchedulePeriodSchema)),
    wed: Type.Optional(Type.Array(SchedulePeriodSchema)),
    thu: Type.Optional(Type.Array(SchedulePeriodSchema)),
    fri: Type.Optional(Type.Array(SchedulePeriodSchema)),
    sat: Type.Optional(Type.Array(SchedulePeriodSchema)),
    sun: Type.Optional(Type.Array(SchedulePeriodSchema)),
  },
  { additionalProperties: false, description: 'periods per weekday (mon..sun)' },
);
export type WeekPlan = Static<typeof WeekPlanSchema>;

/** The plan fields of a schedule: the body of PUT /api/energy/schedules/:id and the rest of a config entry. */
export const SchedulePlanFields = {
  term: WeekPlanSchema,
  vacation: Type.Optional(WeekPlanSchema),
  holiday: Type.Optional(Type.Array(SchedulePeriodSchema, { description: 'periods on public holidays (default: the Sunday plan)' })),
  exceptions: Type.Optional(
    Type.Array(Type.Object({ date: Day, as: Type.Optional(literalUnion(WEEKDAYS)), periods: Type.Optional(Type.Array(SchedulePeriodSchema)) }, { additionalProperties: false }), {
      description: 'dated exceptions: run the date as a weekday (make-up working days) or with its own periods',
    }),
  ),
};
export const SchedulePlanSchema = Type.Object(SchedulePlanFields, {
  additionalProperties: false,
  description: 'a weekly plan in the shape of `energy.schedules[]` of the config, without id and circuits',
});
export type SchedulePlan = Static<typeof SchedulePlanSchema>;

/** A schedule in force: the config entry, or its plan as edited in the console (`edited`). */
export const WeeklyScheduleSchema = Type.Object({
  id: Type.String(),
  circuits: Type.Array(Type.String()),
  ...SchedulePlanFields,
  edited: Type.Optional(Type.Object({ at: MsEpoch(), by: Type.String() }, { description: 'set when the plan in force was edited in the console' })),
});
export type WeeklySchedule = Static<typeof WeeklyScheduleSchema>;

export const CircuitStatusSchema = Type.Object({
  circuit: Type.String(),
  schedule: Type.String(),
  wanted: Type.Object({ on: Type.Boolean(), level: Type.Number(), reason: Type.String() }),
  sent: Nullable(
    Type.Object({ on: Type.Boolean(), level: Type.Number(), commandId: Type.String(), at: Type.Number(), confirmed: Nullable(Type.Boolean()), error: Type.Optional(Type.String()) }),
  ),
});
export type CircuitStatus = Static<typeof CircuitStatusSchema>;

export const SchedulesSchema = Type.Object({ schedules: Type.Array(WeeklyScheduleSchema), circuits: Type.Array(CircuitStatusSchema) });
export type Schedules = Static<typeof SchedulesSchema>;

export const ScheduleEditedSchema = Type.Object({
  schedule: WeeklyScheduleSchema,
  circuits: Type.Array(CircuitStatusSchema, { description: "the schedule's circuits after the edit, with the commands it caused" }),
});

const Period = {
  from: Type.Optional(MsEpoch('inclusive; default: 30 days before `to`')),
  to: Type.Optional(MsEpoch('exclusive; default: now')),
};

export const EnergyImportBodySchema = Type.Object(
  {
    format: literalUnion(['csv', 'xlsx'] as const),
    data: Type.String({ minLength: 1, description: 'the file, base64 (a data: URL prefix is accepted)' }),
    dryRun: Type.Optional(Type.Boolean({ default: false, description: 'check and count only; nothing is stored' })),
  },
  { additionalProperties: false },
);
export type EnergyImportBody = Static<typeof EnergyImportBodySchema>;
export const EnergyImportRowErrorSchema = Type.Object({ row: Type.Integer({ description: '1-based row of the sheet; 1 is the header' }), reason: Type.String() });
export type EnergyImportRowError = Static<typeof EnergyImportRowErrorSchema>;
export const EnergyImportResultSchema = Type.Union([
  Type.Object({
    ok: Type.Literal(true),
    kind: literalUnion(['registers', 'intervals'] as const, { description: 'register readings (meter, ts, kwh) or interval consumption (meter, start, end, kwh)' }),
    dryRun: Type.Boolean(),
    rows: Type.Integer({ description: 'readings (or intervals) in the file' }),
    imported: Type.Integer({ description: 'readings stored now (0 on a dry run or a re-import)' }),
    unchanged: Type.Integer({ description: 'readings already stored with the same value' }),
    meters: Type.Array(Type.Object({ meter: Type.String(), from: MsEpoch(), to: MsEpoch(), readings: Type.Integer(), new: Type.Integer() })),
  }),
  Type.Object({ ok: Type.Literal(false), errors: Type.Array(EnergyImportRowErrorSchema) }),
]);
export type EnergyImportResult = Static<typeof EnergyImportResultSchema>;

export const ENERGY_ROUTES = {
  'POST /api/energy/import': {
    summary: 'Import meter history of any age, CSV or XLSX: register readings (meter, ts, kwh|m3|value) or interval consumption (meter, start, end, kwh|m3|value|amount). Every bad row listed and nothing imported, else stored and rolled up (affected buckets recomputed, recent backfilled hours judged by the anomaly detector); a re-import changes nothing; dryRun=true only checks (facilities, admin)',
    body: EnergyImportBodySchema,
    response: EnergyImportResultSchema,
  },
  'GET /api/energy/tree': {
    summary: 'The energy hierarchy: campus → zone → building → floor/dorm, with physical and virtual meters',
    response: Type.Object({ tree: Nullable(EnergyNodeSchema) }),
  },
  'GET /api/energy/consumption': {
    summary: 'Consumption of a node, meter or virtual meter per 15 minutes, hour, day or month (campus-local days and months)',
    query: Type.Object(
      {
        node: Type.String({ minLength: 1, maxLength: 128, description: 'node, meter or virtual meter id' }),
        medium: Type.Optional(MediumSchema),
        ...Period,
        step: Type.Optional(literalUnion(ENERGY_STEPS, { default: '1h' })),
        refresh: Type.Optional(Type.Boolean({ description: 'roll up the newest register readings first' })),
      },
      { additionalProperties: false },
    ),
    response: ConsumptionSchema,
  },
  'GET /api/energy/cost': {
    summary: 'Cost of a node (every medium), meter or virtual meter over a period: TOU electricity by band, tiered water and gas',
    query: Type.Object({ node: Type.String({ minLength: 1, maxLength: 128 }), ...Period }, { additionalProperties: false }),
    response: CostSchema,
  },
  'GET /api/energy/anomalies': {
    summary:
      "Energy anomalies found by the detector (spike, drop, dropout, flat, missing, night base load, leak) on every physical meter over a period of at most `energy.anomalies.maxQueryDays` (31) days: each alert with its window, numbers and sentence (en, zh), suppressed ones marked; plus register problems",
    query: Type.Object(
      {
        from: Type.Optional(MsEpoch('inclusive; default: 7 days before `to`')),
        to: Type.Optional(MsEpoch('exclusive; default: now')),
        meter: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'only this meter' })),
      },
      { additionalProperties: false },
    ),
    response: AnomaliesSchema,
  },
  'GET /api/energy/detection': {
    summary: "One meter's hours as the anomaly detector sees them (use, expected, band, flag) and its alerts over a period, for the chart",
    query: Type.Object(
      { meter: Type.String({ minLength: 1, maxLength: 128 }), from: Type.Optional(MsEpoch('inclusive; default: 7 days before `to`')), to: Type.Optional(MsEpoch('exclusive; default: now')) },
      { additionalProperties: false },
    ),
    response: DetectionSchema,
  },
  'POST /api/energy/anomalies/feedback': {
    summary: 'Not an anomaly: a meter window (optionally one kind) the detector leaves out of its baselines and whose pattern it stops raising; audited; resolves the named energy alarm',
    body: Type.Object(
      {
        meter: Type.String({ minLength: 1, maxLength: 128 }),
        kind: Type.Optional(literalUnion(ENERGY_ANOMALY_KINDS)),
        from: MsEpoch('inclusive'),
        to: MsEpoch('exclusive'),
        note: Type.Optional(Type.String({ maxLength: 500 })),
        alarm: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'an energy alarm of this meter to resolve with the note' })),
      },
      { additionalProperties: false },
    ),
    response: AnomalyFeedbackSchema,
  },
  'GET /api/energy/anomalies/feedback': {
    summary: '"Not an anomaly" feedback kept so far, oldest first',
    query: Type.Object({ meter: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }, { additionalProperties: false }),
    response: Type.Object({ feedback: Type.Array(AnomalyFeedbackSchema) }),
  },
  'GET /api/energy/alarms': {
    summary: 'Energy alarms (energy.*) for facilities, newest first: open ones by default',
    query: Type.Object({ state: Type.Optional(literalUnion(['open', 'raised', 'acknowledged', 'resolved'] as const, { default: 'open' })) }, { additionalProperties: false }),
    response: Type.Object({ alarms: Type.Array(AlarmSchema) }),
  },
  'POST /api/energy/alarms/:id/acknowledge': {
    summary: 'Facilities acknowledge an energy alarm (energy.* only; others 404), with an optional note',
    params: IdParams(),
    body: Type.Optional(Type.Object({ note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })),
    response: AlarmSchema,
  },
  'GET /api/energy/schedules': {
    summary: 'Scheduled circuits: what each schedule (or a live override) wants now, and the last command sent with its confirmation',
    response: SchedulesSchema,
  },
  'PUT /api/energy/schedules/:id': {
    summary: "Replace a schedule's weekly plan (term, vacation, holiday, exceptions; the config's shape). Stored, audited with before/after, applied at once",
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
    body: SchedulePlanSchema,
    response: ScheduleEditedSchema,
  },
  'POST /api/energy/schedules/override': {
    summary: 'Manual override of one scheduled circuit for a number of minutes (audited; the schedule resumes afterwards)',
    body: Type.Object(
      { circuit: Type.String({ minLength: 1, maxLength: 128 }), on: Type.Boolean(), level: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })), minutes: Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 }) },
      { additionalProperties: false },
    ),
    response: CircuitStatusSchema,
  },
} as const satisfies Record<string, RouteDef>;
