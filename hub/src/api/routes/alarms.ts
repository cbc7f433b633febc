import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { literalUnion } from '@warden/contract';
import { ALARM_STATES, ALARM_TYPE_NAMES, PRIORITIES, TIMELINE_KINDS } from '../../alarms/types.ts';
import { HubError } from '../../errors.ts';
import { userOf } from '../access.ts';
import { MsEpoch, errors } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

const Nullable = <T extends Type.TSchema>(s: T) => Type.Union([s, Type.Null()]);
const lit = literalUnion;

export const AlarmSchema = Type.Object({
  id: Type.String(),
  rule: Type.String({ description: 'the rule file that raised it' }),
  type: Type.String({ description: `one of ${ALARM_TYPE_NAMES.join(', ')}` }),
  priority: lit(PRIORITIES),
  state: lit(ALARM_STATES),
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

const TimelineEntrySchema = Type.Object({
  ts: MsEpoch(),
  kind: lit(TIMELINE_KINDS),
  actor: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
  eventId: Type.Optional(Type.String()),
  detail: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

const AlarmDetailSchema = Type.Intersect([
  AlarmSchema,
  Type.Object({ timeline: Type.Array(TimelineEntrySchema), cameras: Type.Array(Type.String()) }),
]);

const Note = Type.String({ minLength: 1, maxLength: 1000 });
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const CommaList = (values: readonly string[], extra = '') =>
  Type.String({ maxLength: 500, pattern: `^(${values.map((v) => v.replace('.', '\\.')).join('|')}${extra})(,(${values.map((v) => v.replace('.', '\\.')).join('|')}${extra}))*$` });
const list = (s: string | undefined) => (s === undefined ? undefined : s.split(','));

export const alarmRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  const tags = ['alarms'];
  const security = [{ bearer: [] }];

  app.get(
    '/api/alarms',
    {
      config: { access: [] },
      schema: {
        summary: 'Alarms, newest first, filtered and paged (history search)',
        tags,
        security,
        querystring: Type.Object(
          {
            state: Type.Optional(lit(['open', ...ALARM_STATES] as const)),
            priority: Type.Optional(CommaList(PRIORITIES)),
            type: Type.Optional(Type.String({ maxLength: 500, pattern: '^[a-z_]+(\\.[a-z_]+|\\.\\*)(,[a-z_]+(\\.[a-z_]+|\\.\\*))*$', description: 'comma list; families like door.*' })),
            building: Type.Optional(Type.String({ maxLength: 64 })),
            device: Type.Optional(Type.String({ maxLength: 128 })),
            q: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            from: Type.Optional(MsEpoch('firstAt >= from')),
            to: Type.Optional(MsEpoch('firstAt <= to')),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'the `next` cursor of the previous page' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ alarms: Type.Array(AlarmSchema), next: Nullable(Type.String()) }), ...errors(400, 401) },
      },
    },
    async (req) => {
      const q = req.query;
      const page = s.alarms.repo.query({
        state: q.state,
        priorities: list(q.priority),
        types: list(q.type),
        building: q.building,
        device: q.device,
        q: q.q,
        from: q.from,
        to: q.to,
        limit: q.limit ?? 100,
        before: q.before === undefined ? undefined : Number(q.before),
      });
      return { alarms: page.alarms, next: page.next === null ? null : String(page.next) };
    },
  );

  app.get(
    '/api/alarms/:id',
    {
      config: { access: [] },
      schema: {
        summary: 'One alarm with its timeline and the cameras of its zone',
        tags,
        security,
        params: IdParams,
        response: { 200: AlarmDetailSchema, ...errors(401, 404) },
      },
    },
    async (req) => {
      const a = s.alarms.engine.get(req.params.id);
      if (!a) throw new HubError('not_found', `alarm ${req.params.id}`);
      return a;
    },
  );

  app.post(
    '/api/alarms/acknowledge',
    {
      config: { access: ['security'] },
      schema: {
        summary: 'Acknowledge several alarms at once',
        tags,
        security,
        body: Type.Object({ ids: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 500 }), note: Type.Optional(Note) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            acknowledged: Type.Array(Type.String()),
            skipped: Type.Array(Type.Object({ id: Type.String(), reason: lit(['not_found', 'not_raised'] as const) })),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => s.alarms.engine.acknowledgeMany(req.body.ids, userOf(req).username, req.body.note ?? null),
  );

  app.post(
    '/api/alarms/:id/acknowledge',
    {
      config: { access: ['security'] },
      schema: {
        summary: 'Acknowledge an alarm',
        tags,
        security,
        params: IdParams,
        body: Type.Optional(Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false })),
        response: { 200: AlarmSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => s.alarms.engine.acknowledge(req.params.id, userOf(req).username, req.body?.note ?? null),
  );

  app.post(
    '/api/alarms/:id/resolve',
    {
      config: { access: ['security'] },
      schema: {
        summary: 'Resolve (reset) an alarm; latching alarms are only ever resolved this way',
        tags,
        security,
        params: IdParams,
        body: Type.Object({ note: Note }, { additionalProperties: false }),
        response: { 200: AlarmSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => s.alarms.engine.resolve(req.params.id, userOf(req).username, req.body.note),
  );
};
