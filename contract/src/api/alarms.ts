import Type, { type Static } from 'typebox';
import { ALARM_PRIORITIES, ALARM_STATES } from '../alarms.ts';
import { literalUnion } from '../primitives.ts';
import { Cursor, IdParams, Limit, MsEpoch, Nullable, type RouteDef } from './common.ts';

/** What an alarm's timeline records. */
export const TIMELINE_KINDS = [
  'raised',
  'repeated',
  'condition_cleared',
  'acknowledged',
  'resolved',
  'auto_resolved',
  'escalated',
  'linkage.command',
  'linkage.result',
  'linkage.cameras',
  'linkage.failsafe',
  'notified',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** An alarm as the hub answers it (REST) and pushes it (live `alarm`); docs/API.md, "Alarms". */
export const AlarmSchema = Type.Object({
  id: Type.String(),
  rule: Type.String({ description: 'the rule file that raised it' }),
  type: Type.String({ description: 'an alarm type of the hub (docs/API.md, "Alarm types")' }),
  priority: literalUnion(ALARM_PRIORITIES),
  state: literalUnion(ALARM_STATES),
  latching: Type.Boolean({ description: 'never resolves itself; only a person resolves it' }),
  conditionCleared: Type.Boolean(),
  device: Type.String(),
  gateway: Nullable(Type.String()),
  building: Nullable(Type.String()),
  zone: Nullable(Type.String()),
  credential: Nullable(Type.String()),
  title: Type.String(),
  count: Type.Integer({ minimum: 1, description: 'triggers folded into this alarm while open (flood control)' }),
  firstAt: MsEpoch(),
  lastAt: MsEpoch(),
  acknowledgedAt: Nullable(MsEpoch()),
  acknowledgedBy: Nullable(Type.String()),
  ackNote: Nullable(Type.String()),
  resolvedAt: Nullable(MsEpoch()),
  resolvedBy: Nullable(Type.String()),
  resolveNote: Nullable(Type.String()),
  escalatedAt: Nullable(MsEpoch()),
  escalatedTo: Nullable(Type.String()),
});
/** `T` narrows `type` to the hub's alarm types; the console reads it as a plain string. */
export type Alarm<T extends string = string> = Omit<Static<typeof AlarmSchema>, 'type'> & { type: T };

export const AlarmTimelineEntrySchema = Type.Object({
  ts: MsEpoch(),
  kind: literalUnion(TIMELINE_KINDS),
  actor: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
  eventId: Type.Optional(Type.String()),
  detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type AlarmTimelineEntry = Static<typeof AlarmTimelineEntrySchema>;

export const AlarmDetailSchema = Type.Intersect([AlarmSchema, Type.Object({ timeline: Type.Array(AlarmTimelineEntrySchema), cameras: Type.Array(Type.String()) })]);
export type AlarmDetail = Static<typeof AlarmDetailSchema>;

export const AlarmsPageSchema = Type.Object({ alarms: Type.Array(AlarmSchema), next: Nullable(Type.String()) });
export type AlarmsPage = Static<typeof AlarmsPageSchema>;

const Note = Type.String({ minLength: 1, maxLength: 1000 });
const commaList = (values: readonly string[]) => {
  const one = values.map((v) => v.replace('.', '\\.')).join('|');
  return Type.String({ maxLength: 500, pattern: `^(${one})(,(${one}))*$` });
};

export const AlarmsQuerySchema = Type.Object(
  {
    state: Type.Optional(literalUnion(['open', ...ALARM_STATES] as const)),
    priority: Type.Optional(commaList(ALARM_PRIORITIES)),
    type: Type.Optional(Type.String({ maxLength: 500, pattern: '^[a-z_]+(\\.[a-z_]+|\\.\\*)(,[a-z_]+(\\.[a-z_]+|\\.\\*))*$', description: 'comma list; families like door.*' })),
    building: Type.Optional(Type.String({ maxLength: 64 })),
    device: Type.Optional(Type.String({ maxLength: 128 })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    from: Type.Optional(MsEpoch('firstAt >= from')),
    to: Type.Optional(MsEpoch('firstAt <= to')),
    limit: Type.Optional(Limit),
    before: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const AcknowledgeManySchema = Type.Object({
  acknowledged: Type.Array(Type.String()),
  skipped: Type.Array(Type.Object({ id: Type.String(), reason: literalUnion(['not_found', 'not_raised'] as const) })),
});
export type AcknowledgeMany = Static<typeof AcknowledgeManySchema>;

export const ALARM_ROUTES = {
  'GET /api/alarms': { summary: 'Alarms, newest first, filtered and paged (history search)', query: AlarmsQuerySchema, response: AlarmsPageSchema },
  'GET /api/alarms/:id': { summary: 'One alarm with its timeline and the cameras of its zone', params: IdParams(), response: AlarmDetailSchema },
  'POST /api/alarms/acknowledge': {
    summary: 'Acknowledge several alarms at once',
    body: Type.Object({ ids: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 500 }), note: Type.Optional(Note) }, { additionalProperties: false }),
    response: AcknowledgeManySchema,
  },
  'POST /api/alarms/:id/acknowledge': {
    summary: 'Acknowledge an alarm',
    params: IdParams(),
    body: Type.Optional(Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false })),
    response: AlarmSchema,
  },
  'POST /api/alarms/:id/resolve': {
    summary: 'Resolve (reset) an alarm; latching alarms are only ever resolved this way',
    params: IdParams(),
    body: Type.Object({ note: Note }, { additionalProperties: false }),
    response: AlarmSchema,
  },
} as const satisfies Record<string, RouteDef>;
