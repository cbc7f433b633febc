import { Counter } from 'prom-client';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Consumption, Cost, EnergyNode, WeeklySchedule } from '@warden/contract';
import { HubError } from '../../errors.ts';
import { checkSchedulePlan } from '../../energy/schedules/plan-schema.ts';
import type { Step } from '../../energy/time.ts';
import { boundRange } from '../bounds.ts';
import { userOf } from '../access.ts';
import { energyScope } from './energy-scope.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

const DAY = 86_400_000;
const STEP_MS: Record<Step, number> = { '15m': 900_000, '1h': 3_600_000, '1d': DAY, '1mo': 28 * DAY };
const MAX_POINTS = 40_000;
const ACCESS = ['facilities'] as const;
/** A year of 15-minute readings of a few dozen meters, base64. */
const IMPORT_BODY_LIMIT = 64 * 1024 * 1024;
const tags = ['energy'];
const security = [{ bearer: [] }];

/**
 * Energy REST: hierarchy, consumption, cost, anomalies, schedules (docs/API.md, "Energy"). Translates requests to
 * the energy module (hub/src/energy/module.ts), which owns the EnergyService, the rollup, the schedule runner and
 * the demand limiter.
 */
export const energyRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  const en = s.energy;

  // The user's building/zone scope over the energy hierarchy (energy-scope.ts); out-of-scope ids are refused 403.
  const scopeOf = (req: FastifyRequest) => energyScope(userOf(req).scope, en.service.config, (id) => s.devices.get(id));
  /** `what` names the refused object for the reader; the answer is the hub's plain 403, like other out-of-scope ids. */
  const refuse = (ok: boolean, _what: string) => {
    if (!ok) throw new HubError('forbidden');
  };

  const period = (q: { from?: number | undefined; to?: number | undefined }) => {
    const to = q.to ?? en.now();
    const from = q.from ?? to - 30 * DAY;
    boundRange({ from, to, maxDays: s.config.limits.maxRangeDays, what: 'an energy query' });
    return { from, to };
  };

  app.get(
    '/api/energy/tree',
    {
      config: { access: ACCESS },
      schema: { ...route('GET /api/energy/tree', 401, 403), tags, security },
    },
    // The energy service types node kinds, flags and schedules loosely; what it builds is the contract's shape.
    async (req) => ({ tree: scopeOf(req).tree(en.service.tree() as EnergyNode | null) }),
  );

  app.get(
    '/api/energy/consumption',
    {
      config: { access: ACCESS },
      schema: { ...route('GET /api/energy/consumption', 400, 401, 403, 404), tags, security },
    },
    async (req) => {
      const q = req.query;
      const sc = scopeOf(req);
      const parts = sc.parts(q.node);
      refuse(parts === null ? sc.id(q.node) : parts.length > 0, `energy node or meter ${q.node}`);
      const { from, to } = period(q);
      const step = (q.step ?? '1h') as Step;
      if ((to - from) / STEP_MS[step] > MAX_POINTS) throw new HubError('bad_request', `more than ${MAX_POINTS} buckets; use a larger step or a shorter range`);
      if (q.refresh) await en.rollup();
      const r = parts ? sumConsumption(q.node, await Promise.all(parts.map((p) => en.service.consumption(p, from, to, step, q.medium)))) : await en.service.consumption(q.node, from, to, step, q.medium);
      if (!r) throw new HubError('not_found', `energy node or meter ${q.node}`);
      return r as Consumption;
    },
  );

  app.get(
    '/api/energy/cost',
    {
      config: { access: ACCESS },
      schema: { ...route('GET /api/energy/cost', 400, 401, 403, 404), tags, security },
    },
    async (req) => {
      const sc = scopeOf(req);
      const parts = sc.parts(req.query.node);
      refuse(parts === null ? sc.id(req.query.node) : parts.length > 0, `energy node or meter ${req.query.node}`);
      const { from, to } = period(req.query);
      const r = parts ? sumCost(req.query.node, from, to, await Promise.all(parts.map((p) => en.service.cost(p, from, to)))) : await en.service.cost(req.query.node, from, to);
      if (!r) throw new HubError('not_found', `energy node or meter ${req.query.node}`);
      return r as Cost;
    },
  );

  app.get(
    '/api/energy/anomalies',
    {
      config: { access: ACCESS },
      schema: { ...route('GET /api/energy/anomalies', 400, 401, 403, 404), tags, security },
    },
    async (req) => {
      const to = req.query.to ?? en.now();
      const from = req.query.from ?? to - 7 * DAY;
      if (from >= to) throw new HubError('bad_request', '`from` must be before `to`');
      const maxDays = en.service.config.anomalies.maxQueryDays;
      if (to - from > maxDays * DAY) throw new HubError('bad_request', `at most ${maxDays} days per query; ask for a shorter period`);
      const sc = scopeOf(req);
      if (req.query.meter !== undefined) refuse(sc.meter(req.query.meter), `energy meter ${req.query.meter}`);
      if (sc.scoped && req.query.meter === undefined) {
        // Only the meters in scope are judged (the detector's work is per meter), merged in the same order.
        const out: NonNullable<Awaited<ReturnType<typeof en.anomalies>>> = { anomalies: [], registerProblems: [] };
        for (const m of en.service.config.meters) {
          if (!sc.meter(m.id)) continue;
          const one = await en.anomalies(from, to, m.id);
          out.anomalies.push(...(one?.anomalies ?? []));
          out.registerProblems.push(...(one?.registerProblems ?? []));
        }
        out.anomalies.sort((a, b) => a.from - b.from || a.meter.localeCompare(b.meter));
        return out;
      }
      const r = await en.anomalies(from, to, req.query.meter);
      if (!r) throw new HubError('not_found', `energy meter ${req.query.meter}`);
      return r;
    },
  );

  app.get(
    '/api/energy/detection',
    {
      config: { access: ACCESS },
      schema: { ...route('GET /api/energy/detection', 400, 401, 403, 404), tags, security },
    },
    async (req) => {
      const to = req.query.to ?? en.now();
      const from = req.query.from ?? to - 7 * DAY;
      if (from >= to) throw new HubError('bad_request', '`from` must be before `to`');
      if (to - from > 366 * DAY) throw new HubError('bad_request', 'at most 366 days');
      refuse(scopeOf(req).meter(req.query.meter), `energy meter ${req.query.meter}`);
      const d = await en.detection(req.query.meter, from, to);
      if (!d) throw new HubError('not_found', `energy meter ${req.query.meter}`);
      return d;
    },
  );

  app.post(
    '/api/energy/import',
    { config: { access: ACCESS }, bodyLimit: IMPORT_BODY_LIMIT, schema: { ...route('POST /api/energy/import', 400, 401, 403, 413), tags, security } },
    async (req) => {
      // A history file may hold any meter of the campus: imported by campus-wide (unscoped) users only.
      refuse(!scopeOf(req).scoped, 'a history import (campus-wide)');
      const data = Buffer.from(req.body.data.replace(/^data:[^,]*,/, ''), 'base64');
      if (data.length === 0) throw new HubError('validation_failed', 'data is not base64 or empty');
      return en.importHistory({ format: req.body.format, data, dryRun: req.body.dryRun ?? false }, req.user!.username);
    },
  );

  app.post(
    '/api/energy/anomalies/feedback',
    {
      config: { access: ACCESS },
      schema: { ...route('POST /api/energy/anomalies/feedback', 400, 401, 403, 404), tags, security },
    },
    async (req) => {
      refuse(scopeOf(req).meter(req.body.meter), `energy meter ${req.body.meter}`);
      return en.dismissAnomaly(req.body, req.user!.username);
    },
  );

  app.get(
    '/api/energy/anomalies/feedback',
    {
      config: { access: ACCESS },
      schema: { ...route('GET /api/energy/anomalies/feedback', 401, 403), tags, security },
    },
    async (req) => {
      const sc = scopeOf(req);
      if (req.query.meter !== undefined) refuse(sc.meter(req.query.meter), `energy meter ${req.query.meter}`);
      return { feedback: en.anomalyFeedback(req.query.meter).filter((f) => sc.meter(f.meter)) };
    },
  );

  app.get(
    '/api/energy/alarms',
    { config: { access: ACCESS }, schema: { ...route('GET /api/energy/alarms', 400, 401, 403), tags, security } },
    async (req) => {
      const sc = scopeOf(req);
      const alarms = s.alarms.repo.query({ types: ['energy.*'], state: req.query.state ?? 'open', limit: 500 }).alarms;
      // An energy alarm's device is its meter.
      return { alarms: sc.scoped ? alarms.filter((a) => sc.meter(a.device)) : alarms };
    },
  );

  app.post(
    '/api/energy/alarms/:id/acknowledge',
    { config: { access: ACCESS }, schema: { ...route('POST /api/energy/alarms/:id/acknowledge', 400, 401, 403, 404), tags, security } },
    async (req) => {
      const a = s.alarms.engine.get(req.params.id);
      if (!a || !a.type.startsWith('energy.')) throw new HubError('not_found', `energy alarm ${req.params.id}`);
      refuse(scopeOf(req).meter(a.device), `energy alarm ${a.id}`);
      return s.alarms.engine.acknowledge(a.id, req.user!.username, req.body?.note ?? null);
    },
  );

  app.get(
    '/api/energy/schedules',
    {
      config: { access: ACCESS },
      schema: { ...route('GET /api/energy/schedules', 401, 403), tags, security },
    },
    async (req) => {
      const sc = scopeOf(req);
      return { schedules: (en.schedules() as WeeklySchedule[]).filter((x) => sc.schedule(x)), circuits: en.circuits().filter((c) => sc.circuit(c.circuit)) };
    },
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
      schema: { ...route('PUT /api/energy/schedules/:id', 400, 401, 403, 404), tags, security },
    },
    async (req) => {
      if (!en.hasSchedule(req.params.id)) throw new HubError('not_found', `schedule ${req.params.id}`);
      const sc = scopeOf(req);
      refuse(!sc.scoped || en.schedules().some((x) => x.id === req.params.id && sc.schedule(x)), `schedule ${req.params.id}`);
      const problems = checkSchedulePlan(req.body);
      if (problems.length) throw new HubError('bad_request', problems.join('; '));
      return en.editSchedule(req.params.id, req.body as never, req.user!.username);
    },
  );

  app.post(
    '/api/energy/schedules/override',
    {
      config: { access: ACCESS },
      schema: { ...route('POST /api/energy/schedules/override', 400, 401, 403, 404), tags, security },
    },
    async (req) => {
      const b = req.body;
      if (!en.circuits().some((c) => c.circuit === b.circuit)) throw new HubError('not_found', `scheduled circuit ${b.circuit}`);
      refuse(scopeOf(req).circuit(b.circuit), `circuit ${b.circuit}`);
      return en.override(b.circuit, b.on, b.level, b.minutes, req.user!.username);
    },
  );
};

const round = (x: number): number => Math.round(x * 1e6) / 1e6;
type ConsumptionPart = { medium: string; unit: string; step: string; points: Array<[number, number, string[]]> } | null;
type CostPart = Cost | null;

/** A scoped user's view of an ancestor node: the sum of its in-scope nodes' consumption (energy-scope.ts, `parts`). */
function sumConsumption(node: string, parts: ConsumptionPart[]): Consumption | null {
  const rs = parts.filter((r): r is NonNullable<ConsumptionPart> => r !== null);
  if (rs.length === 0) return null;
  const buckets = new Map<number, { amount: number; flags: Set<string> }>();
  for (const r of rs) {
    for (const [t, v, flags] of r.points) {
      const b = buckets.get(t) ?? { amount: 0, flags: new Set<string>() };
      b.amount += v;
      for (const f of flags) b.flags.add(f);
      buckets.set(t, b);
    }
  }
  const points = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, b]): [number, number, string[]] => [t, round(b.amount), [...b.flags].sort()]);
  const first = rs[0]!;
  return { node, kind: 'node', medium: first.medium, unit: first.unit, step: first.step, total: round(points.reduce((a, p) => a + p[1], 0)), points } as Consumption;
}

/** The same for cost: media, bands and tariffs added up (tiers apply per meter, so parts add). */
function sumCost(node: string, from: number, to: number, parts: CostPart[]): Cost {
  const out: Cost = { node, from, to, total: 0, media: [] };
  for (const r of parts) {
    if (!r) continue;
    for (const m of r.media) {
      let e = out.media.find((x) => x.medium === m.medium);
      if (!e) {
        e = { medium: m.medium, unit: m.unit, amount: 0, cost: 0, unpriced: 0, byTariff: [] };
        out.media.push(e);
      }
      e.amount = round(e.amount + m.amount);
      e.cost = round(e.cost + m.cost);
      e.unpriced = round(e.unpriced + m.unpriced);
      if (m.byBand) {
        e.byBand ??= { peak: { amount: 0, cost: 0 }, flat: { amount: 0, cost: 0 }, valley: { amount: 0, cost: 0 } };
        for (const band of ['peak', 'flat', 'valley'] as const) {
          e.byBand[band] = { amount: round(e.byBand[band].amount + m.byBand[band].amount), cost: round(e.byBand[band].cost + m.byBand[band].cost) };
        }
      }
      for (const t of m.byTariff) {
        const row = e.byTariff.find((x) => x.tariff === t.tariff);
        if (row) {
          row.amount = round(row.amount + t.amount);
          row.cost = round(row.cost + t.cost);
        } else e.byTariff.push({ ...t });
      }
    }
    out.total = round(out.total + r.total);
  }
  return out;
}
