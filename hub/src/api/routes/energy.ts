import { Counter } from 'prom-client';
import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HubError } from '../../errors.ts';
import { SchedulePlanSchema, checkSchedulePlan } from '../../energy/schedules/plan-schema.ts';
import { STEPS, type Step } from '../../energy/time.ts';
import { MsEpoch, errors } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

const DAY = 86_400_000;
const STEP_MS: Record<Step, number> = { '15m': 900_000, '1h': 3_600_000, '1d': DAY, '1mo': 28 * DAY };
const MAX_POINTS = 40_000;
const ACCESS = ['facilities'] as const;

// Nested nodes of the same shape; described one level deep (children are the same object again).
const TreeNode = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String({ description: 'campus | zone | building | floor | dorm' }),
  use: Type.Optional(Type.String()),
  meters: Type.Array(
    Type.Object({ id: Type.String(), medium: Type.String(), unit: Type.String(), virtual: Type.Boolean(), plus: Type.Optional(Type.Array(Type.String())), minus: Type.Optional(Type.Array(Type.String())) }),
  ),
  children: Type.Array(Type.Unknown(), { description: 'child nodes, each of this shape' }),
});
const Medium = Type.Union([Type.Literal('power'), Type.Literal('water'), Type.Literal('gas')]);
const Period = {
  from: Type.Optional(MsEpoch('inclusive; default: 30 days before `to`')),
  to: Type.Optional(MsEpoch('exclusive; default: now')),
};
const Amounts = Type.Object({ amount: Type.Number(), cost: Type.Number() });

/**
 * Energy REST: hierarchy, consumption, cost, anomalies, schedules (docs/API.md, "Energy"). Translates requests to
 * the energy module (hub/src/energy/module.ts), which owns the EnergyService, the rollup, the schedule runner and
 * the demand limiter.
 */
export const energyRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  const en = s.energy;

  const period = (q: { from?: number | undefined; to?: number | undefined }) => {
    const to = q.to ?? en.now();
    const from = q.from ?? to - 30 * DAY;
    if (from >= to) throw new HubError('bad_request', '`from` must be before `to`');
    return { from, to };
  };

  app.get(
    '/api/energy/tree',
    {
      config: { access: ACCESS },
      schema: {
        summary: 'The energy hierarchy: campus → zone → building → floor/dorm, with physical and virtual meters',
        tags: ['energy'],
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ tree: Type.Union([TreeNode, Type.Null()]) }), ...errors(401, 403) },
      },
    },
    async () => ({ tree: en.service.tree() }),
  );

  app.get(
    '/api/energy/consumption',
    {
      config: { access: ACCESS },
      schema: {
        summary: 'Consumption of a node, meter or virtual meter per 15 minutes, hour, day or month (campus-local days and months)',
        tags: ['energy'],
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            node: Type.String({ minLength: 1, maxLength: 128, description: 'node, meter or virtual meter id' }),
            medium: Type.Optional(Medium),
            ...Period,
            step: Type.Optional(Type.Union(STEPS.map((x) => Type.Literal(x)), { default: '1h' })),
            refresh: Type.Optional(Type.Boolean({ description: 'roll up the newest register readings first' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            node: Type.String(),
            kind: Type.String(),
            medium: Type.String(),
            unit: Type.String(),
            step: Type.String(),
            total: Type.Number(),
            points: Type.Array(Type.Tuple([Type.Number(), Type.Number(), Type.Array(Type.String())]), { description: '[bucket start ms, amount, flags (rollover, replacement, gap)]' }),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const { from, to } = period(q);
      const step = (q.step ?? '1h') as Step;
      if ((to - from) / STEP_MS[step] > MAX_POINTS) throw new HubError('bad_request', `more than ${MAX_POINTS} buckets; use a larger step or a shorter range`);
      if (q.refresh) await en.rollup();
      const r = await en.service.consumption(q.node, from, to, step, q.medium);
      if (!r) throw new HubError('not_found', `energy node or meter ${q.node}`);
      return r;
    },
  );

  app.get(
    '/api/energy/cost',
    {
      config: { access: ACCESS },
      schema: {
        summary: 'Cost of a node (every medium), meter or virtual meter over a period: TOU electricity by band, tiered water and gas',
        tags: ['energy'],
        security: [{ bearer: [] }],
        querystring: Type.Object({ node: Type.String({ minLength: 1, maxLength: 128 }), ...Period }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            node: Type.String(),
            from: Type.Number(),
            to: Type.Number(),
            total: Type.Number(),
            media: Type.Array(
              Type.Object({
                medium: Type.String(),
                unit: Type.String(),
                amount: Type.Number(),
                cost: Type.Number(),
                unpriced: Type.Number({ description: 'consumption no tariff covers (no tariff, or a date outside every validity period)' }),
                byBand: Type.Optional(Type.Object({ peak: Amounts, flat: Amounts, valley: Amounts })),
                byTariff: Type.Array(Type.Object({ tariff: Type.Union([Type.String(), Type.Null()]), amount: Type.Number(), cost: Type.Number() })),
              }),
            ),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const { from, to } = period(req.query);
      const r = await en.service.cost(req.query.node, from, to);
      if (!r) throw new HubError('not_found', `energy node or meter ${req.query.node}`);
      return r;
    },
  );

  app.get(
    '/api/energy/anomalies',
    {
      config: { access: ACCESS },
      schema: {
        summary: 'Energy anomalies (night base load, night-flow leak, spike, stuck, zero) with their explanation, plus register problems',
        tags: ['energy'],
        security: [{ bearer: [] }],
        querystring: Type.Object(
          { from: Type.Optional(MsEpoch('inclusive; default: 7 days before `to`')), to: Type.Optional(MsEpoch('exclusive; default: now')) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            anomalies: Type.Array(
              Type.Object({ rule: Type.String(), meter: Type.String(), from: Type.Number(), to: Type.Number(), message: Type.String(), numbers: Type.Record(Type.String(), Type.Number()) }),
            ),
            registerProblems: Type.Array(Type.Object({ meter: Type.String(), from: Type.Number(), to: Type.Number(), message: Type.String() })),
          }),
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      const to = req.query.to ?? en.now();
      const from = req.query.from ?? to - 7 * DAY;
      if (from >= to) throw new HubError('bad_request', '`from` must be before `to`');
      return { anomalies: await en.service.anomalies(from, to), registerProblems: en.service.registerProblems() };
    },
  );
  const CircuitStatus = Type.Object({
    circuit: Type.String(),
    schedule: Type.String(),
    wanted: Type.Object({ on: Type.Boolean(), level: Type.Number(), reason: Type.String() }),
    sent: Type.Union([
      Type.Object({ on: Type.Boolean(), level: Type.Number(), commandId: Type.String(), at: Type.Number(), confirmed: Type.Union([Type.Boolean(), Type.Null()]), error: Type.Optional(Type.String()) }),
      Type.Null(),
    ]),
  });

  app.get(
    '/api/energy/schedules',
    {
      config: { access: ACCESS },
      schema: {
        summary: 'Scheduled circuits: what each schedule (or a live override) wants now, and the last command sent with its confirmation',
        tags: ['energy'],
        security: [{ bearer: [] }],
        response: { 200: Type.Object({ schedules: Type.Array(Type.Unknown()), circuits: Type.Array(CircuitStatus) }), ...errors(401, 403) },
      },
    },
    async () => ({ schedules: en.schedules() as unknown[], circuits: en.circuits() }),
  );

  const scheduleEdits = new Counter({
    name: 'warden_hub_schedule_edits_total',
    help: 'Schedule plan edits (PUT /api/energy/schedules/:id) by outcome: applied, or the HTTP status of the refusal',
    labelNames: ['result'],
    registers: [s.metrics.registry],
  });
  app.put(
    '/api/energy/schedules/:id',
    {
      config: { access: ACCESS },
      // Counted after the response, so refusals by the schema, the access hook or the handler all count.
      onResponse: async (_req, reply) => scheduleEdits.inc({ result: reply.statusCode === 200 ? 'applied' : String(reply.statusCode) }),
      schema: {
        summary: "Replace a schedule's weekly plan (term, vacation, holiday, exceptions; the config's shape). Stored, audited with before/after, applied at once",
        tags: ['energy'],
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        body: SchedulePlanSchema,
        response: {
          200: Type.Object({ schedule: Type.Unknown(), circuits: Type.Array(CircuitStatus, { description: "the schedule's circuits after the edit, with the commands it caused" }) }),
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      if (!en.hasSchedule(req.params.id)) throw new HubError('not_found', `schedule ${req.params.id}`);
      const problems = checkSchedulePlan(req.body);
      if (problems.length) throw new HubError('bad_request', problems.join('; '));
      return en.editSchedule(req.params.id, req.body as never, req.user!.username);
    },
  );

  app.post(
    '/api/energy/schedules/override',
    {
      config: { access: ACCESS },
      schema: {
        summary: 'Manual override of one scheduled circuit for a number of minutes (audited; the schedule resumes afterwards)',
        tags: ['energy'],
        security: [{ bearer: [] }],
        body: Type.Object(
          { circuit: Type.String({ minLength: 1, maxLength: 128 }), on: Type.Boolean(), level: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })), minutes: Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 }) },
          { additionalProperties: false },
        ),
        response: { 200: CircuitStatus, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const b = req.body;
      if (!en.circuits().some((c) => c.circuit === b.circuit)) throw new HubError('not_found', `scheduled circuit ${b.circuit}`);
      return en.override(b.circuit, b.on, b.level, b.minutes, req.user!.username);
    },
  );
};
