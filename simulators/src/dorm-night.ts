import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { createRng, type Rng } from './rng.ts';

/**
 * A dorm night: when each resident of a building passes the building's check-in points, relative to
 * curfew. Pure and seeded: every check-in point of the building computes the same plan from the same
 * options and plays only its own crossings (devices/face-terminal.ts, option `night`), so the points
 * need no coordination beyond their options, and a test or the demo start can compute the plan too and
 * know exactly what the simulator will do.
 *
 * Times are simulated seconds relative to curfew (negative: before). Fates are dealt as exact counts
 * (a seeded shuffle, then the shares rounded), so a night of 600 has 18 late students at 3 %, not
 * "about 18"; arrival times are drawn.
 */

const CARD = Type.String({ minLength: 1, maxLength: 128 });

export const DormNightSchema = Type.Object(
  {
    curfew: Type.Optional(
      Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'curfew on the simulated campus clock, HH:MM (the next one to come)' }),
    ),
    curfewAt: Type.Optional(
      Type.String({
        pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})$',
        description: 'curfew as a real instant (ISO 8601): a compressed night is laid out around it at the scenario speed; wins over curfew',
      }),
    ),
    residents: Type.Union(
      [
        Type.Array(CARD, { minItems: 1, maxItems: 100_000 }),
        Type.Object({ prefix: Type.String({ minLength: 1, maxLength: 64 }), count: Type.Integer({ minimum: 1, maximum: 100_000 }) }, { additionalProperties: false }),
      ],
      { description: 'the building’s residents as the card numbers they present: a list, or {prefix, count} for prefix0001...' },
    ),
    points: Type.Array(
      Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), direction: Type.Union([Type.Literal('in'), Type.Literal('out')]) }, { additionalProperties: false }),
      { minItems: 1, description: 'every check-in point of the building (this terminal among them) and the direction it records' },
    ),
    seed: Type.Union([Type.Integer(), Type.String({ maxLength: 64 })], { default: 0 }),
    late: Type.Number({ minimum: 0, maximum: 1, default: 0.03, description: 'share arriving after curfew' }),
    absent: Type.Number({ minimum: 0, maximum: 1, default: 0.01, description: 'share never coming back (no leave)' }),
    leave: Type.Number({ minimum: 0, maximum: 1, default: 0.02, description: 'share away on leave (never coming back)' }),
    outAgain: Type.Number({ minimum: 0, maximum: 1, default: 0.08, description: 'share of those in before curfew who go out again and come back before it' }),
    duplicate: Type.Number({ minimum: 0, maximum: 1, default: 0.02, description: 'share of arrivals presented twice a few seconds apart' }),
    peakHours: Type.Number({ minimum: 0.25, maximum: 6, default: 1.5, description: 'arrivals peak this many hours before curfew' }),
    compress: Type.Number({
      minimum: 1,
      maximum: 3600,
      default: 1,
      description: 'play the night this many times faster around curfew, whatever the scenario speed (the demo campus: an evening of 5 h in 10 min); every time of the plan is divided by it',
    }),
    outage: Type.Optional(
      Type.Object(
        {
          point: Type.String({ minLength: 1, maxLength: 64 }),
          at: Type.Number({ default: -2700, description: 'start, simulated seconds relative to curfew (default 45 min before)' }),
          seconds: Type.Number({ minimum: 1, default: 3600, description: 'how long the point stays disconnected' }),
        },
        { additionalProperties: false, description: 'one check-in point drops off the field broker (last will: offline) and comes back, delivering what it stored' },
      ),
    ),
  },
  { additionalProperties: false, description: 'a dorm check-in point playing its share of a dorm night (src/dorm-night.ts) instead of random presentations' },
);
export type DormNightOptions = Static<typeof DormNightSchema>;

export type Fate = 'in' | 'late' | 'absent' | 'leave';

export interface Crossing {
  card: string;
  point: string;
  direction: 'in' | 'out';
  /** Simulated seconds relative to curfew. */
  at: number;
  /** A second presentation of the same card a few seconds after the first. */
  duplicate?: true;
  /** Made at the failing point while it is disconnected: stored by the terminal, delivered when it comes back. */
  stored?: true;
}

export interface PlannedResident {
  card: string;
  fate: Fate;
  outAgain: boolean;
  /** Last entry of the night (in: before curfew; late: after it). */
  arrival?: number;
}

export interface DormNightPlan {
  residents: PlannedResident[];
  /** Every crossing of the night at every point, in time order. */
  crossings: Crossing[];
  outage?: { point: string; from: number; to: number };
  summary: { residents: number; in: number; late: number; absent: number; leave: number; outAgain: number; duplicates: number; crossings: number; stored: number };
}

export function residentCards(r: DormNightOptions['residents']): string[] {
  if (Array.isArray(r)) return r;
  const width = Math.max(4, String(r.count).length);
  return Array.from({ length: r.count }, (_, i) => `${r.prefix}${String(i + 1).padStart(width, '0')}`);
}

/** Problems a schema cannot see: the points must include an entry point, and the outage must name one of them. */
export function dormNightProblems(o: DormNightOptions, self?: string): string[] {
  const problems: string[] = [];
  const ids = new Set(o.points.map((p) => p.id));
  if (ids.size !== o.points.length) problems.push('night.points: duplicate point ids');
  if (!o.points.some((p) => p.direction === 'in')) problems.push('night.points: at least one point must record direction "in"');
  if (self !== undefined && !ids.has(self)) problems.push(`night.points: must list this terminal (${self})`);
  if (o.outage && !ids.has(o.outage.point)) problems.push(`night.outage.point: ${o.outage.point} is not one of night.points`);
  if (o.curfew === undefined && o.curfewAt === undefined) problems.push('night: give curfew (HH:MM) or curfewAt (ISO instant)');
  const cards = residentCards(o.residents);
  if (new Set(cards).size !== cards.length) problems.push('night.residents: duplicate cards');
  return problems;
}

const H = 3600;
const M = 60;

function shuffle<T>(items: T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Options as written (defaults not yet applied, e.g. read from a scenario file) are completed first. */
export function planDormNight(given: DormNightOptions): DormNightPlan {
  const o = Value.Default(DormNightSchema, Value.Clone(given)) as DormNightOptions;
  const rng = createRng(`dorm-night\u0000${o.seed}`);
  const cards = residentCards(o.residents);
  const ins = o.points.filter((p) => p.direction === 'in').map((p) => p.id);
  const outs = o.points.filter((p) => p.direction === 'out').map((p) => p.id);
  const n = cards.length;
  const count = (share: number) => Math.min(n, Math.round(n * share));
  const order = shuffle(cards, rng);
  const nLeave = count(o.leave);
  const nAbsent = Math.min(n - nLeave, count(o.absent));
  const nLate = Math.min(n - nLeave - nAbsent, count(o.late));
  const fateOf = new Map<string, Fate>();
  order.forEach((c, i) => fateOf.set(c, i < nLeave ? 'leave' : i < nLeave + nAbsent ? 'absent' : i < nLeave + nAbsent + nLate ? 'late' : 'in'));
  const onTime = order.slice(nLeave + nAbsent + nLate);
  const goOut = new Set(outs.length > 0 ? onTime.slice(0, Math.round(onTime.length * o.outAgain)) : []);

  const crossings: Crossing[] = [];
  const pass = (card: string, direction: 'in' | 'out', at: number): void => {
    const point = rng.pick(direction === 'in' ? ins : outs);
    crossings.push({ card, point, direction, at: Math.round(at) });
  };
  const residents: PlannedResident[] = cards.map((card) => {
    const fate = fateOf.get(card)!;
    const outAgain = goOut.has(card);
    let arrival: number | undefined;
    if (fate === 'late') {
      arrival = rng.float(3 * M, 100 * M);
      pass(card, 'in', arrival);
    } else if (fate === 'in' && outAgain) {
      // Home early, out for a while (a late supper, the library), back before curfew: in-out-in ends in.
      const first = -rng.float(3 * H, 5 * H);
      const out = first + rng.float(15 * M, 60 * M);
      arrival = out + rng.float(10 * M, 60 * M);
      pass(card, 'in', first);
      pass(card, 'out', out);
      pass(card, 'in', arrival);
    } else if (fate === 'in') {
      // Peaks peakHours before curfew, a spread of about 50 minutes, never in the last 2 minutes.
      const before = Math.min(6 * H, Math.max(2 * M, (o.peakHours + 0.85 * rng.gauss()) * H));
      arrival = -before;
      pass(card, 'in', arrival);
    }
    return { card, fate, outAgain, ...(arrival !== undefined ? { arrival: Math.round(arrival) } : {}) };
  });
  // A few cards are presented twice at the same point (the reader did not beep fast enough).
  const arrivals = crossings.filter((c) => c.direction === 'in');
  for (const c of arrivals) if (rng.chance(o.duplicate)) crossings.push({ ...c, at: c.at + rng.int(2, 6), duplicate: true });

  const outage = o.outage ? { point: o.outage.point, from: Math.round(o.outage.at), to: Math.round(o.outage.at + o.outage.seconds) } : undefined;
  if (outage) for (const c of crossings) if (c.point === outage.point && c.at >= outage.from && c.at < outage.to) c.stored = true;
  if (o.compress > 1) {
    // A compressed night: the same plan (fates, order, outage) on a shorter clock; times to the millisecond.
    const k = (s: number) => Math.round((s / o.compress) * 1000) / 1000;
    for (const c of crossings) c.at = k(c.at);
    for (const r of residents) if (r.arrival !== undefined) r.arrival = k(r.arrival);
    if (outage) {
      outage.from = k(outage.from);
      outage.to = k(outage.to);
    }
  }
  crossings.sort((a, b) => a.at - b.at || a.card.localeCompare(b.card));

  const by = (f: Fate) => residents.filter((r) => r.fate === f).length;
  return {
    residents,
    crossings,
    ...(outage ? { outage } : {}),
    summary: {
      residents: n,
      in: by('in'),
      late: by('late'),
      absent: by('absent'),
      leave: by('leave'),
      outAgain: goOut.size,
      duplicates: crossings.filter((c) => c.duplicate).length,
      crossings: crossings.length,
      stored: crossings.filter((c) => c.stored).length,
    },
  };
}

/**
 * Simulated seconds from now until curfew: `curfewAt` (a real instant) through the clock's speed, else the
 * next `curfew` HH:MM on the simulated campus clock.
 */
export function secondsToCurfew(o: Pick<DormNightOptions, 'curfew' | 'curfewAt'>, clock: { speed: number; hour(realNow?: number): number }, realNow = Date.now()): number {
  if (o.curfewAt !== undefined) return ((Date.parse(o.curfewAt) - realNow) / 1000) * clock.speed;
  const [hh, mm] = (o.curfew ?? '23:00').split(':').map(Number) as [number, number];
  const hours = (hh + mm / 60 - clock.hour(realNow) + 24) % 24;
  return hours * H;
}
