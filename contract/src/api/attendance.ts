import Type, { type Static } from 'typebox';
import type { RouteDef } from './common.ts';

/**
 * Dorm attendance (issue 11): REST bodies and live messages. One source for the hub routes and the console.
 * Dates are campus-local `YYYY-MM-DD`; a night is named by the date of the evening it starts on.
 */
const Id = Type.String({ minLength: 1, maxLength: 64 });
export const NightDateSchema = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'campus-local date YYYY-MM-DD' });
const Clock = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'local time HH:MM' });
const DateRange = Type.Object({ from: NightDateSchema, to: NightDateSchema, name: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false });

export const DAY_TYPES = ['weekday', 'weekend', 'holiday', 'exam'] as const;
export type DayType = (typeof DAY_TYPES)[number];
const CurfewSet = Type.Object(
  { weekday: Type.Optional(Clock), weekend: Type.Optional(Clock), holiday: Type.Optional(Clock), exam: Type.Optional(Clock) },
  { additionalProperties: false },
);

/** Calendar, curfews and notification channels; edited by an admin, stored by the hub. */
export const AttendanceSettingsSchema = Type.Object(
  {
    timeZone: Type.String({ default: 'Asia/Shanghai', minLength: 1, maxLength: 64 }),
    /** A night runs from this local time to the same time next day; crossings in it belong to the evening it started. */
    dayStart: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', default: '06:00' }),
    /** Curfew by day type; a time before dayStart is after midnight. Weekend = Friday and Saturday evenings. */
    curfew: Type.Object(
      { weekday: Clock, weekend: Clock, holiday: Clock, exam: Clock },
      { additionalProperties: false, default: { weekday: '23:00', weekend: '23:30', holiday: '23:30', exam: '23:30' } },
    ),
    /** Per building overrides of some day types. */
    buildings: Type.Record(Type.String(), CurfewSet, { default: {} }),
    semesters: Type.Array(DateRange, { default: [], maxItems: 50 }),
    holidays: Type.Array(DateRange, { default: [], maxItems: 200 }),
    vacations: Type.Array(DateRange, { default: [], maxItems: 50 }),
    examWeeks: Type.Array(DateRange, { default: [], maxItems: 50 }),
    /** The late/absent list is pushed this many minutes after curfew. */
    reportDelayMinutes: Type.Integer({ minimum: 0, maximum: 360, default: 30 }),
    /** How often the hub checks whether a building's report is due (seconds). */
    reportCheckSeconds: Type.Integer({ minimum: 1, maximum: 600, default: 30 }),
    /** Check-in point (device id) -> building, beside what the device inventory says. */
    points: Type.Record(Type.String(), Type.String(), { default: {} }),
    webhooks: Type.Array(
      Type.Object(
        {
          kind: Type.Union([Type.Literal('dingtalk'), Type.Literal('wecom')]),
          url: Type.String({ pattern: '^https?://', maxLength: 1000 }),
          /** DingTalk robot signing secret (SEC…), optional. */
          secret: Type.Optional(Type.String({ maxLength: 200 })),
          /** Only these buildings' lists (none: all). */
          buildings: Type.Optional(Type.Array(Type.String())),
        },
        { additionalProperties: false },
      ),
      { default: [], maxItems: 20 },
    ),
  },
  { additionalProperties: false },
);
export type AttendanceSettings = Static<typeof AttendanceSettingsSchema>;
/** What PUT takes: any field left out gets its default. */
export const AttendanceSettingsInputSchema = Type.Partial(AttendanceSettingsSchema);

export const NIGHT_STATES = ['pending', 'in', 'late', 'absent', 'leave', 'unknown', 'exempt'] as const;
export type NightStateName = (typeof NIGHT_STATES)[number];
const State = Type.Union([
  Type.Literal('pending'),
  Type.Literal('in'),
  Type.Literal('late'),
  Type.Literal('absent'),
  Type.Literal('leave'),
  Type.Literal('unknown'),
  Type.Literal('exempt'),
]);

export const NightRowSchema = Type.Object({
  student: Id,
  name: Type.String(),
  building: Type.String(),
  floor: Type.String(),
  room: Type.String(),
  night: NightDateSchema,
  state: State,
  /** in: the last entry before curfew; late: the first entry after it (ms). */
  at: Type.Union([Type.Integer(), Type.Null()]),
  /** Went out again after the crossing that decided the state. */
  outAgain: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  /** 0 until a late-arriving check-in changed a reported night. */
  revision: Type.Integer({ minimum: 0 }),
  correctedAt: Type.Union([Type.Integer(), Type.Null()]),
  previousState: Type.Union([State, Type.Null()]),
});
export type NightRow = Static<typeof NightRowSchema>;

const Counts = Type.Record(Type.String(), Type.Integer());
export const TonightBoardSchema = Type.Object({
  night: NightDateSchema,
  dayType: Type.String(),
  asOf: Type.Integer(),
  buildings: Type.Array(
    Type.Object({
      building: Type.String(),
      curfew: Type.Union([Type.Integer(), Type.Null()]),
      counts: Counts,
      floors: Type.Array(
        Type.Object({
          floor: Type.String(),
          counts: Counts,
          rooms: Type.Array(Type.Object({ room: Type.String(), counts: Counts, students: Type.Array(NightRowSchema) })),
        }),
      ),
    }),
  ),
});
export type TonightBoard = Static<typeof TonightBoardSchema>;

export const NightListSchema = Type.Object({ night: NightDateSchema, asOf: Type.Integer(), rows: Type.Array(NightRowSchema) });
export type NightList = Static<typeof NightListSchema>;

export const LeaveSchema = Type.Object({
  id: Type.Integer(),
  student: Id,
  from: NightDateSchema,
  to: NightDateSchema,
  reason: Type.String(),
  status: Type.Union([Type.Literal('requested'), Type.Literal('approved'), Type.Literal('rejected'), Type.Literal('revoked')]),
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  decidedBy: Type.Union([Type.String(), Type.Null()]),
  decidedAt: Type.Union([Type.Integer(), Type.Null()]),
});
export type Leave = Static<typeof LeaveSchema>;
export const LeaveRequestSchema = Type.Object(
  { student: Id, from: NightDateSchema, to: NightDateSchema, reason: Type.String({ minLength: 1, maxLength: 500 }), approve: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type LeaveRequest = Static<typeof LeaveRequestSchema>;

export const RosterRowErrorSchema = Type.Object({ row: Type.Integer(), column: Type.Union([Type.String(), Type.Null()]), reason: Type.String() });
export type RosterRowError = Static<typeof RosterRowErrorSchema>;
const Placement = Type.Object({ building: Type.String(), floor: Type.String(), room: Type.String() });
export const RosterDiffSchema = Type.Object({
  effective: NightDateSchema,
  rows: Type.Integer(),
  added: Type.Array(Type.Object({ student: Id, name: Type.String(), to: Placement })),
  moved: Type.Array(Type.Object({ student: Id, name: Type.String(), from: Placement, to: Placement })),
  left: Type.Array(Type.Object({ student: Id, name: Type.String(), from: Placement })),
  renamed: Type.Array(Type.Object({ student: Id, from: Type.String(), to: Type.String() })),
  unchanged: Type.Integer(),
});
export type RosterDiff = Static<typeof RosterDiffSchema>;
export const RosterImportResultSchema = Type.Union([
  Type.Object({ ok: Type.Literal(true), applied: Type.Boolean(), diff: RosterDiffSchema }),
  Type.Object({ ok: Type.Literal(false), errors: Type.Array(RosterRowErrorSchema) }),
]);
export type RosterImportResult = Static<typeof RosterImportResultSchema>;

export const StudentHistorySchema = Type.Object({
  student: Type.Object({ id: Id, name: Type.String(), building: Type.Union([Type.String(), Type.Null()]), floor: Type.Union([Type.String(), Type.Null()]), room: Type.Union([Type.String(), Type.Null()]), exempt: Type.Boolean() }),
  nights: Type.Array(NightRowSchema),
});
export type StudentHistory = Static<typeof StudentHistorySchema>;

export const SummarySchema = Type.Object({
  from: NightDateSchema,
  to: NightDateSchema,
  period: Type.Union([Type.Literal('week'), Type.Literal('semester')]),
  buildings: Type.Array(
    Type.Object({
      building: Type.String(),
      counts: Counts,
      /** Share of resolved nights that were late or absent, per week (oldest first). */
      trend: Type.Array(Type.Object({ week: NightDateSchema, nights: Type.Integer(), late: Type.Integer(), absent: Type.Integer(), rate: Type.Number() })),
    }),
  ),
});
export type Summary = Static<typeof SummarySchema>;

/** Live message `attendance`: a night's late/absent list at curfew + N, or a correction of a reported night. */
export const AttendanceLiveSchema = Type.Union([
  Type.Object({ kind: Type.Literal('report'), night: NightDateSchema, building: Type.String(), rows: Type.Array(NightRowSchema) }),
  Type.Object({ kind: Type.Literal('correction'), night: NightDateSchema, building: Type.String(), row: NightRowSchema }),
  Type.Object({ kind: Type.Literal('state'), night: NightDateSchema, building: Type.String(), row: NightRowSchema }),
]);
export type AttendanceLive = Static<typeof AttendanceLiveSchema>;

export const RosterUploadSchema = Type.Object(
  {
    format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]),
    /** The file, base64 (a data: URL prefix is accepted). */
    data: Type.String({ minLength: 1, maxLength: 24 * 1024 * 1024 }),
    /** First night the new roster applies to (moves and leavers take effect then). */
    effective: NightDateSchema,
    /** false: only the preview diff; true: apply (one transaction). */
    apply: Type.Boolean(),
  },
  { additionalProperties: false },
);

const NightQuery = Type.Object({ night: Type.Optional(NightDateSchema) }, { additionalProperties: false });
const LeaveId = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const ATTENDANCE_ROUTES = {
  'GET /api/attendance/settings': { summary: 'Calendar, curfews, check-in points and robot webhooks (admin)', response: AttendanceSettingsSchema },
  'PUT /api/attendance/settings': { summary: 'Replace the attendance settings (admin; audited); fields left out get their defaults', body: AttendanceSettingsInputSchema, response: AttendanceSettingsSchema },
  'POST /api/attendance/roster': {
    summary: 'Import a roster (CSV or XLSX): every bad row listed and nothing imported, else the diff (moves, leavers, new); apply=true applies it in one transaction (admin)',
    body: RosterUploadSchema,
    response: RosterImportResultSchema,
  },
  'GET /api/attendance/buildings': { summary: 'Dorm buildings the caller may see', response: Type.Object({ buildings: Type.Array(Type.String()) }) },
  'GET /api/attendance/board': { summary: 'A night per building, floor and room (default: tonight), scoped to the caller’s buildings', query: NightQuery, response: TonightBoardSchema },
  'GET /api/attendance/exceptions': {
    summary: 'Late, absent and unknown students of a night (the curfew list), scoped',
    query: Type.Object({ night: Type.Optional(NightDateSchema), building: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
    response: NightListSchema,
  },
  'GET /api/attendance/export': {
    summary: 'The curfew list (or every student with all=true) of a night as a CSV or XLSX file, scoped',
    query: Type.Object(
      { night: Type.Optional(NightDateSchema), format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]), all: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
    response: Type.String({ description: 'the file (text/csv or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet)' }),
  },
  'GET /api/attendance/students/:id': {
    summary: 'A student’s nights (reported ones with their revisions, tonight live), newest first',
    params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
    query: Type.Object({ from: Type.Optional(NightDateSchema), to: Type.Optional(NightDateSchema) }, { additionalProperties: false }),
    response: StudentHistorySchema,
  },
  'GET /api/attendance/summary': {
    summary: 'Reported nights per building over the week or semester containing `night`, with the weekly late+absent trend',
    query: Type.Object({ period: Type.Union([Type.Literal('week'), Type.Literal('semester')]), night: Type.Optional(NightDateSchema) }, { additionalProperties: false }),
    response: SummarySchema,
  },
  'GET /api/attendance/leaves': {
    summary: 'Leave of the last 30 nights on (or of one student), scoped',
    query: Type.Object({ student: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
    response: Type.Object({ leaves: Type.Array(LeaveSchema) }),
  },
  'POST /api/attendance/leaves': { summary: 'Enter a leave request (approve=true: entered and approved at once); audited', body: LeaveRequestSchema, status: 201, response: LeaveSchema },
  'POST /api/attendance/leaves/:id/approve': { summary: 'Approve a requested leave; the nights it covers change (reported ones get a new revision)', params: LeaveId, response: LeaveSchema },
  'POST /api/attendance/leaves/:id/reject': { summary: 'Reject a requested leave', params: LeaveId, response: LeaveSchema },
  'POST /api/attendance/leaves/:id/revoke': { summary: 'Revoke a leave; nights it covered are resolved again', params: LeaveId, response: LeaveSchema },
} as const satisfies Record<string, RouteDef>;
