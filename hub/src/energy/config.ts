import Type, { type Static } from 'typebox';
import { DEVICE_ID_PATTERN, MediumSchema, SchedulePlanFields } from '@warden/contract';

const Id = Type.String({ pattern: DEVICE_ID_PATTERN, description: 'node, meter or tariff id' });
const Hhmm = Type.String({ pattern: '^([01][0-9]|2[0-4]):(00|15|30|45)$', description: 'HH:MM campus local time on a 15-minute grid; 24:00 = end of day' });
const Day = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD, campus local date' });
const Medium = MediumSchema;
const NodeType = Type.Union(['campus', 'zone', 'building', 'floor', 'dorm'].map((t) => Type.Literal(t)), { description: 'campus | zone | building | floor | dorm' });
const Band = Type.Union([Type.Literal('peak'), Type.Literal('flat'), Type.Literal('valley')], { description: 'peak | flat | valley' });
const Price = Type.Number({ minimum: 0, description: 'currency per kWh or m³' });

const TouPeriod = Type.Object(
  {
    from: Day,
    to: Day,
    slots: Type.Array(Type.Object({ from: Hhmm, to: Hhmm, band: Band }, { additionalProperties: false }), { minItems: 1, description: 'cover the whole day, no overlaps' }),
    prices: Type.Object({ peak: Price, flat: Price, valley: Price }, { additionalProperties: false }),
  },
  { additionalProperties: false, description: 'prices and slots valid from..to (inclusive)' },
);

const TariffSchema = Type.Union([
  Type.Object({ kind: Type.Literal('tou'), medium: Type.Literal('power'), periods: Type.Array(TouPeriod, { minItems: 1 }) }, { additionalProperties: false }),
  Type.Object(
    {
      kind: Type.Literal('tiered'),
      medium: Type.Union([Type.Literal('water'), Type.Literal('gas')]),
      /** Tiers apply to each meter's consumption within one calendar month. */
      tiers: Type.Array(Type.Object({ upTo: Type.Optional(Type.Number({ exclusiveMinimum: 0 })), price: Price }, { additionalProperties: false }), {
        minItems: 1,
        description: 'ascending upTo (m³ per meter per month); the last tier has no upTo',
      }),
    },
    { additionalProperties: false },
  ),
]);

export const EnergyConfigSchema = Type.Object(
  {
    utcOffsetHours: Type.Number({ minimum: -12, maximum: 14, default: 8, description: 'campus offset from UTC (China: 8, no daylight saving); days, slots and months are local' }),
    nodes: Type.Array(
      Type.Object(
        {
          id: Id,
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          type: NodeType,
          parent: Type.Optional(Id),
          use: Type.Optional(Type.Union(['teaching', 'dorm', 'lab', 'office', 'canteen', 'library', 'other'].map((t) => Type.Literal(t)), { description: 'what the building is for; night rules apply to teaching buildings' })),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'campus → zone → building → floor/dorm; exactly one campus' },
    ),
    meters: Type.Array(
      Type.Object(
        {
          id: Id,
          node: Id,
          medium: Medium,
          tariff: Type.Optional(Id),
          rolloverAt: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'the register wraps to 0 after this value (e.g. 99999.9)' })),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'physical meters (device ids) and the node they measure' },
    ),
    virtualMeters: Type.Array(
      Type.Object(
        { id: Id, node: Type.Optional(Id), medium: Medium, plus: Type.Array(Id, { minItems: 1 }), minus: Type.Array(Id, { default: [] }) },
        { additionalProperties: false },
      ),
      { default: [], description: 'sums and differences of meters, e.g. a building main meter minus its sub-meters = losses' },
    ),
    replacements: Type.Array(
      Type.Object(
        { meter: Id, at: Type.String({ format: 'date-time', description: 'ISO time of the swap' }), oldFinal: Type.Number({ minimum: 0 }), newInitial: Type.Number({ minimum: 0 }) },
        { additionalProperties: false },
      ),
      { default: [], description: 'meter swaps: the old meter’s last register and the new one’s first' },
    ),
    tariffs: Type.Record(Id, TariffSchema, { default: {}, description: 'tariffs by id' }),
    defaultTariffs: Type.Object({ power: Type.Optional(Id), water: Type.Optional(Id), gas: Type.Optional(Id) }, { additionalProperties: false, default: {} }),
    calendar: Type.Object(
      {
        holidays: Type.Array(Day, { default: [] }),
        vacations: Type.Array(Type.Object({ from: Day, to: Day }, { additionalProperties: false }), { default: [], description: 'term breaks, inclusive' }),
      },
      { additionalProperties: false, default: {} },
    ),
    schedules: Type.Array(
      Type.Object(
        {
          id: Id,
          circuits: Type.Array(Id, { minItems: 1, description: 'actuator device ids switched by this schedule' }),
          // The plan fields are the contract's: the console edits them (PUT /api/energy/schedules/:id).
          ...SchedulePlanFields,
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'weekly lighting/HVAC schedules tied to the calendar' },
    ),
    demandLimits: Type.Array(
      Type.Object(
        {
          building: Id,
          meter: Id,
          limitKw: Type.Number({ exclusiveMinimum: 0 }),
          marginKw: Type.Number({ minimum: 0, default: 5, description: 'restore a load only with this much room left' }),
          loads: Type.Array(
            Type.Object(
              { circuit: Id, priority: Type.Integer({ minimum: 0, maximum: 100, description: 'higher = shed later' }), kw: Type.Number({ exclusiveMinimum: 0 }), sheddable: Type.Optional(Type.Boolean()) },
              { additionalProperties: false },
            ),
            { minItems: 1 },
          ),
        },
        { additionalProperties: false },
      ),
      { default: [], description: "a building's power limit and the scheduled circuits shed (lowest priority first) to keep it" },
    ),
    gapMinutes: Type.Integer({ minimum: 1, maximum: 10_080, default: 60, description: 'readings further apart than this are a gap: the delta is attributed to the reading after it and flagged' }),
    anomalies: Type.Object(
      {
        backfillAlarmDays: Type.Number({
          minimum: 0,
          maximum: 365,
          default: 7,
          description:
            'backfilled hours (an import, a late outbox batch) are judged by the anomaly detector; an alert ending within this many days before now raises an energy alarm, older ones are listed (GET /api/energy/anomalies) but raise none',
        }),
        maxQueryDays: Type.Integer({ minimum: 1, maximum: 366, default: 31, description: 'longest period GET /api/energy/anomalies answers (longer: 400)' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {}, description: 'energy: hierarchy, meters, tariffs, calendar, anomaly thresholds' },
);

export type EnergyConfig = Static<typeof EnergyConfigSchema>;
export type Tariff = Static<typeof TariffSchema>;
export type TouTariff = Extract<Tariff, { kind: 'tou' }>;
export type TieredTariff = Extract<Tariff, { kind: 'tiered' }>;

export const hhmmToMinutes = (s: string): number => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

/** What a schema cannot say: references, one campus, no cycles, slots covering each day exactly once, ascending tiers. */
export function checkEnergyConfig(e: EnergyConfig, path = '/energy'): string[] {
  const errors: string[] = [];
  const nodes = new Map<string, number>();
  e.nodes.forEach((n, i) => {
    if (nodes.has(n.id)) errors.push(`${path}/nodes/${i}/id: duplicate node ${n.id}`);
    nodes.set(n.id, i);
  });
  const campuses = e.nodes.filter((n) => n.type === 'campus');
  if (e.nodes.length && campuses.length !== 1) errors.push(`${path}/nodes: exactly one node of type campus is needed (found ${campuses.length})`);
  e.nodes.forEach((n, i) => {
    if (n.type === 'campus') {
      if (n.parent !== undefined) errors.push(`${path}/nodes/${i}/parent: the campus has no parent`);
      return;
    }
    if (n.parent === undefined) return void errors.push(`${path}/nodes/${i}/parent: required for a ${n.type}`);
    if (!nodes.has(n.parent)) return void errors.push(`${path}/nodes/${i}/parent: no node ${n.parent}`);
    // Walk up; a cycle never reaches the campus.
    const seen = new Set<string>([n.id]);
    let p: string | undefined = n.parent;
    while (p !== undefined) {
      if (seen.has(p)) return void errors.push(`${path}/nodes/${i}/parent: cycle through ${p}`);
      seen.add(p);
      p = e.nodes[nodes.get(p)!]!.parent;
    }
  });
  const meters = new Set<string>();
  e.meters.forEach((m, i) => {
    if (meters.has(m.id)) errors.push(`${path}/meters/${i}/id: duplicate meter ${m.id}`);
    meters.add(m.id);
    if (!nodes.has(m.node)) errors.push(`${path}/meters/${i}/node: no node ${m.node}`);
    if (m.tariff !== undefined) {
      const t = e.tariffs[m.tariff];
      if (!t) errors.push(`${path}/meters/${i}/tariff: no tariff ${m.tariff}`);
      else if (t.medium !== m.medium) errors.push(`${path}/meters/${i}/tariff: ${m.tariff} is a ${t.medium} tariff, the meter measures ${m.medium}`);
    }
  });
  const virtual = new Set<string>();
  e.virtualMeters.forEach((v, i) => {
    if (meters.has(v.id) || virtual.has(v.id)) errors.push(`${path}/virtualMeters/${i}/id: duplicate meter ${v.id}`);
    virtual.add(v.id);
    if (v.node !== undefined && !nodes.has(v.node)) errors.push(`${path}/virtualMeters/${i}/node: no node ${v.node}`);
    for (const key of ['plus', 'minus'] as const) {
      v[key].forEach((id, j) => {
        const m = e.meters.find((x) => x.id === id);
        if (!m) errors.push(`${path}/virtualMeters/${i}/${key}/${j}: no physical meter ${id}`);
        else if (m.medium !== v.medium) errors.push(`${path}/virtualMeters/${i}/${key}/${j}: ${id} measures ${m.medium}, not ${v.medium}`);
      });
    }
  });
  e.replacements.forEach((r, i) => {
    if (!meters.has(r.meter)) errors.push(`${path}/replacements/${i}/meter: no meter ${r.meter}`);
    if (Number.isNaN(Date.parse(r.at))) errors.push(`${path}/replacements/${i}/at: not a time`);
  });
  for (const [id, t] of Object.entries(e.tariffs)) {
    if (t.kind === 'tou') {
      t.periods.forEach((p, i) => {
        const at = `${path}/tariffs/${id}/periods/${i}`;
        if (p.from > p.to) errors.push(`${at}: from ${p.from} is after to ${p.to}`);
        const covered = new Array<number>(96).fill(0);
        p.slots.forEach((s, j) => {
          const a = hhmmToMinutes(s.from);
          const b = hhmmToMinutes(s.to);
          if (a >= b) errors.push(`${at}/slots/${j}: from ${s.from} must be before to ${s.to}`);
          for (let m = a; m < b; m += 15) covered[m / 15]! += 1;
        });
        const bad = covered.findIndex((c) => c !== 1);
        if (bad >= 0 && !errors.some((x) => x.startsWith(`${at}/slots/`))) {
          const hh = `${String(Math.floor(bad / 4)).padStart(2, '0')}:${String((bad % 4) * 15).padStart(2, '0')}`;
          errors.push(`${at}/slots: ${covered[bad] === 0 ? 'no slot covers' : 'slots overlap at'} ${hh}`);
        }
        t.periods.forEach((q, k) => {
          if (k > i && p.from <= q.to && q.from <= p.to) errors.push(`${at}: overlaps periods/${k} (${q.from}..${q.to})`);
        });
      });
    } else {
      t.tiers.forEach((tier, i) => {
        const last = i === t.tiers.length - 1;
        if (last && tier.upTo !== undefined) errors.push(`${path}/tariffs/${id}/tiers/${i}/upTo: the last tier has no upper bound`);
        if (!last && tier.upTo === undefined) errors.push(`${path}/tariffs/${id}/tiers/${i}/upTo: required except on the last tier`);
        const prev = t.tiers[i - 1]?.upTo;
        if (prev !== undefined && tier.upTo !== undefined && tier.upTo <= prev) errors.push(`${path}/tariffs/${id}/tiers/${i}/upTo: must be above ${prev}`);
      });
    }
  }
  const circuits = new Map<string, string>();
  e.schedules.forEach((sc, i) => {
    sc.circuits.forEach((c, j) => {
      const other = circuits.get(c);
      if (other !== undefined) errors.push(`${path}/schedules/${i}/circuits/${j}: ${c} is already in schedule ${other}`);
      circuits.set(c, sc.id);
    });
    const plans: Array<[string, Record<string, Array<{ from: string; to: string }> | undefined>]> = [['term', sc.term], ['vacation', sc.vacation ?? {}], ['holiday', { day: sc.holiday }]];
    (sc.exceptions ?? []).forEach((x, k) => plans.push([`exceptions/${k}`, { periods: x.periods }]));
    for (const [name, plan] of plans) {
      for (const [day, periods] of Object.entries(plan)) {
        (periods ?? []).forEach((p, k) => {
          if (hhmmToMinutes(p.from) >= hhmmToMinutes(p.to)) errors.push(`${path}/schedules/${i}/${name}${name === 'holiday' || name.startsWith('exceptions') ? '' : `/${day}`}${name.startsWith('exceptions') ? '/periods' : ''}/${k}: from ${p.from} must be before to ${p.to}`);
        });
      }
    }
  });
  e.demandLimits.forEach((l, i) => {
    if (!nodes.has(l.building)) errors.push(`${path}/demandLimits/${i}/building: no node ${l.building}`);
    const m = e.meters.find((x) => x.id === l.meter);
    if (!m) errors.push(`${path}/demandLimits/${i}/meter: no meter ${l.meter}`);
    else if (m.medium !== 'power') errors.push(`${path}/demandLimits/${i}/meter: ${l.meter} is a ${m.medium} meter`);
    l.loads.forEach((x, j) => {
      if (!circuits.has(x.circuit)) errors.push(`${path}/demandLimits/${i}/loads/${j}/circuit: ${x.circuit} is in no schedule`);
    });
  });
  for (const [medium, id] of Object.entries(e.defaultTariffs)) {
    if (id !== undefined && !e.tariffs[id]) errors.push(`${path}/defaultTariffs/${medium}: no tariff ${id}`);
  }
  return errors;
}
