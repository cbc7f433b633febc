import type { EnergyImportResult } from '@warden/contract';
import type { Logger } from 'pino';
import type { TelemetryStore } from '../store/telemetry.ts';
import type { EnergyConfig } from './config.ts';
import { bucketize, intervalsFromRegister, type Bucket, type Interval, type Reading, type RegisterProblem } from './consumption.ts';
import { importReadings } from './import.ts';
import { UNITS, allNodeFormulas, buildTree, formulaFor, type EnergyTreeNode, type Medium } from './hierarchy.ts';
import { EnergyRollupStore } from './rollup-store.ts';
import { tieredCost, touCost, type Band } from './tariffs.ts';
import { DAY, bucketStart, nextBucket, type Step } from './time.ts';

export interface ConsumptionResult {
  node: string;
  kind: 'meter' | 'virtual' | 'node';
  medium: Medium;
  unit: string;
  step: Step;
  total: number;
  /** [bucket start ms, amount, flags] oldest first; flags: rollover, replacement, gap. */
  points: Array<[number, number, string[]]>;
}

export interface CostResult {
  node: string;
  from: number;
  to: number;
  total: number;
  media: Array<{
    medium: Medium;
    unit: string;
    amount: number;
    cost: number;
    unpriced: number;
    byBand?: Record<Band, { amount: number; cost: number }>;
    byTariff: Array<{ tariff: string | null; amount: number; cost: number }>;
  }>;
}

const MEDIA: readonly Medium[] = ['power', 'water', 'gas'];
const LATE_SCAN_EVERY_MS = 15 * 60_000;

/**
 * The hub's energy side: rolls cumulative meter registers from the telemetry store into 15-minute
 * consumption (rollup-store.ts), and answers consumption, cost and anomaly questions for any node of
 * the configured hierarchy over any period.
 */
export class EnergyService {
  private readonly problems = new Map<string, RegisterProblem[]>();
  /** meter → the nodes (and medium) whose consumption includes it, from the hierarchy. */
  // The config never changes while the service runs: formulas and lookups are computed once.
  private readonly formulas = new Map<string, ReturnType<typeof formulaFor>>();
  private readonly meterById: Map<string, EnergyConfig['meters'][number]>;

  private formula(id: string, medium?: Medium): ReturnType<typeof formulaFor> {
    const key = `${id}\u0000${medium ?? ''}`;
    let f = this.formulas.get(key);
    if (f === undefined) this.formulas.set(key, (f = formulaFor(this.config, id, medium)));
    return f;
  }

  private contributions: Array<{ meter: string; node: string; medium: Medium }> = [];
  /** Meters with imported interval consumption (energy store), whose recomputations include it. */
  private intervalMeters = new Set<string>();
  private readonly nodesOf = new Map<string, Array<{ node: string; medium: Medium; key: string }>>();

  private constructor(
    readonly config: EnergyConfig,
    readonly store: EnergyRollupStore,
    private readonly telemetry: TelemetryStore,
    private readonly log: Logger | undefined,
  ) {
    this.meterById = new Map(config.meters.map((m) => [m.id, m]));
  }

  static async open(file: string, config: EnergyConfig, telemetry: TelemetryStore, log?: Logger): Promise<EnergyService> {
    const service = new EnergyService(config, await EnergyRollupStore.open(file), telemetry, log);
    service.intervalMeters = await service.store.intervalMeters();
    const contributions: Array<{ meter: string; node: string; medium: Medium }> = [];
    for (const medium of MEDIA) {
      // A node measured by one meter is that meter's series; only sums of several are kept per node.
      for (const [node, plus] of allNodeFormulas(config, medium)) if (plus.length >= 2) for (const meter of plus) contributions.push({ meter, node, medium });
    }
    service.contributions = contributions;
    for (const c of contributions) service.nodesOf.set(c.meter, [...(service.nodesOf.get(c.meter) ?? []), { node: c.node, medium: c.medium, key: `${c.node}\u0000${c.medium}` }]);
    // The node table follows the hierarchy: rebuilt from the meter table when the configured one changed.
    if (await service.store.rebuildNodes(contributions, JSON.stringify(contributions))) log?.info({ nodes: config.nodes.length }, 'energy node rollups rebuilt for the configured hierarchy');
    return service;
  }

  /**
   * Bulk import: meter quarter hours appended with `store.append` (no per-node sums), then the node
   * table recomputed in one SQL statement. Much faster than appendConsumption for a year of history.
   */
  async rebuildNodeRollups(): Promise<void> {
    await this.store.rebuildNodes(this.contributions, JSON.stringify(this.contributions), true);
  }

  /**
   * Stores quarter hours of meters and adds them into every node whose consumption includes the meter
   * (summed per node and quarter hour within the batch). The rollup calls this; so can a bulk import.
   */
  appendConsumption(rows: ReadonlyArray<{ meter: string; bucket: Bucket }>): number {
    const n = this.store.append(rows);
    const sums = new Map<string, Map<number, Bucket>>();
    for (const { meter, bucket } of rows) {
      for (const { key } of this.nodesOf.get(meter) ?? []) {
        let byStart = sums.get(key);
        if (!byStart) sums.set(key, (byStart = new Map()));
        const b = byStart.get(bucket.start);
        if (!b) byStart.set(bucket.start, { start: bucket.start, amount: bucket.amount, flags: [...bucket.flags] });
        else {
          b.amount += bucket.amount;
          for (const f of bucket.flags) if (!b.flags.includes(f)) b.flags.push(f);
        }
      }
    }
    const nodeRows = function* () {
      for (const [key, byStart] of sums) {
        const [node, medium] = key.split('\u0000') as [string, string];
        for (const bucket of byStart.values()) yield { node, medium, bucket };
      }
    };
    this.store.appendNodes(nodeRows());
    return n;
  }

  tree(): EnergyTreeNode | null {
    return buildTree(this.config);
  }

  /**
   * Rolls each meter's register readings (telemetry, minute resolution) into 15-minute consumption. New
   * readings after the rolled-up frontier are appended. Readings of any age that arrived behind it (an
   * import, a gateway's late outbox batch, a correction) make the meter dirty from the earliest of them:
   * its quarter hours are recomputed from the bucket of the reading before that one (consumption is the
   * difference of consecutive readings, so that bucket changes too), then the node sums from there.
   * Dirty marks come from `markDirty` (the import) and from a scan of per-day fingerprints of each meter's
   * stored readings (`scanLate`, by default at most every 15 minutes of the given clock).
   */
  async rollup(now: number, opts: { scanLate?: boolean } = {}): Promise<{ meters: number; quarters: number; problems: number; recomputed: number; backfilled: Map<string, number> }> {
    let quarters = 0;
    let problems = 0;
    let recomputed = 0;
    const scan = opts.scanLate ?? (this.lastScanAt === undefined || now - this.lastScanAt >= LATE_SCAN_EVERY_MS);
    if (scan) this.lastScanAt = now;
    const marks = await this.store.dirty();
    const nodeFrom = new Map<string, number>();
    const backfilled = new Map<string, number>();
    const off = this.config.utcOffsetHours;
    for (const m of this.config.meters) {
      const metric = UNITS[m.medium].register;
      let last = await this.store.lastReading(m.id);
      const mark = marks.get(m.id);
      let dirtyFrom = mark;
      if (last && scan) {
        const late = await this.scanLate(m.id, metric, last.ts);
        if (late !== undefined) dirtyFrom = Math.min(dirtyFrom ?? Infinity, late);
      }
      const hasIntervals = this.intervalMeters.has(m.id);
      let keepFrom = -Infinity;
      /** Imported intervals' quarter hours from here on are (re)added: set when the meter is recomputed. */
      let intervalFrom: number | null = null;
      let readFrom = last ? last.ts + 1 : 0;
      if (last && dirtyFrom !== undefined && (dirtyFrom <= last.ts || (hasIntervals && mark !== undefined))) {
        // Backfill: from the bucket of the reading before the earliest late one.
        const prev = await this.readingBefore(m.id, metric, dirtyFrom);
        keepFrom = bucketStart(prev ? prev.ts : dirtyFrom, '15m', off);
        const before = await this.readingBefore(m.id, metric, keepFrom);
        readFrom = before ? before.ts : keepFrom;
        await this.store.deleteMeterFrom(m.id, keepFrom);
        nodeFrom.set(m.id, keepFrom);
        last = null;
        recomputed += 1;
        if (hasIntervals) intervalFrom = keepFrom;
      } else if (!last && hasIntervals && mark !== undefined) {
        // No register rolled up yet: only imported intervals were; redo them from the mark (every register is new).
        intervalFrom = bucketStart(mark, '15m', off);
        await this.store.deleteMeterFrom(m.id, intervalFrom);
        nodeFrom.set(m.id, intervalFrom);
        recomputed += 1;
      }
      if (readFrom < now) {
        const points = await this.telemetry.query({ device: m.id, metric, from: readFrom, to: now, stepMs: 60_000, agg: 'last' });
        const readings: Reading[] = points.map(([ts, value]) => ({ ts, value }));
        if (last) readings.unshift(last);
        if (readings.length === 1 && !last) await this.store.setLastReading(m.id, readings[0]!.ts, readings[0]!.value);
        if (readings.length >= 2) {
          const replacements = this.config.replacements.filter((r) => r.meter === m.id).map((r) => ({ at: Date.parse(r.at), oldFinal: r.oldFinal, newInitial: r.newInitial }));
          const { intervals, problems: p } = intervalsFromRegister(readings, { maxGapMs: this.config.gapMinutes * 60_000, rolloverAt: m.rolloverAt, replacements });
          if (hasIntervals) p.push(...(await this.withoutImported(m.id, intervals)));
          if (p.length) {
            this.problems.set(m.id, [...(this.problems.get(m.id) ?? []).filter((x) => x.to < keepFrom), ...p].slice(-100));
            problems += p.length;
            for (const x of p) this.log?.warn({ meter: m.id, ...x }, 'meter register problem');
          }
          const buckets = bucketize(intervals, (t) => bucketStart(t, '15m', off), (s) => nextBucket(s, '15m', off)).filter((b) => b.start >= keepFrom);
          const rows = buckets.map((bucket) => ({ meter: m.id, bucket }));
          // A recomputed meter's node sums are recomputed below, in SQL, from its first changed bucket.
          quarters += nodeFrom.has(m.id) ? this.store.append(rows) : this.appendConsumption(rows);
          const end = readings[readings.length - 1]!;
          await this.store.setLastReading(m.id, end.ts, end.value);
        }
      }
      if (intervalFrom !== null) {
        const imported = (await this.store.intervals(m.id, intervalFrom, Number.MAX_SAFE_INTEGER)).map((iv) => ({ from: iv.start, to: iv.end, amount: iv.amount, flags: [] }));
        const buckets = bucketize(imported, (t) => bucketStart(t, '15m', off), (s) => nextBucket(s, '15m', off)).filter((b) => b.start >= intervalFrom);
        quarters += this.store.append(buckets.map((bucket) => ({ meter: m.id, bucket })));
      }
      if (mark !== undefined) {
        await this.store.clearDirty(m.id, mark);
        // Imported ahead of the frontier (or a meter's first readings): new hours too, judged from the mark.
        if (!nodeFrom.has(m.id)) backfilled.set(m.id, Math.min(backfilled.get(m.id) ?? Infinity, mark));
      }
      // Fingerprints of the days now fully behind the frontier, so the next scan sees only what arrives later.
      const frontier = await this.store.lastReading(m.id);
      if (frontier) await this.recordDays(m.id, metric, frontier.ts);
    }
    if (nodeFrom.size) {
      const from = Math.min(...nodeFrom.values());
      await this.store.recomputeNodesFrom(this.contributions.filter((c) => nodeFrom.has(c.meter) || this.sharesNode(c.node, c.medium, nodeFrom)), from);
    }
    // Meters recomputed behind their frontier, from where: the anomaly watch judges those hours again.
    for (const [meter, from] of nodeFrom) backfilled.set(meter, from);
    return { meters: this.config.meters.length, quarters, problems, recomputed, backfilled };
  }

  /** History import (import.ts): checked row by row, stored, meters marked dirty; the caller rolls up. */
  importHistory(file: { format: 'csv' | 'xlsx'; data: Buffer; dryRun: boolean }, now: number): Promise<EnergyImportResult> {
    return importReadings(file, {
      config: this.config,
      telemetry: this.telemetry,
      markDirty: (m, ts) => this.markDirty(m, ts),
      intervals: (m, from, to) => this.store.intervals(m, from, to),
      addIntervals: async (rows) => {
        await this.store.addIntervals(rows);
        for (const r of rows) this.intervalMeters.add(r.meter);
      },
      now,
    });
  }

  /**
   * A register difference spanning imported intervals (readings on both sides of a stretch a BMS export covers)
   * counts only what the intervals do not explain: their amount within its span is taken off it (in place). More
   * imported than the register says is a problem to show; the difference then counts nothing.
   */
  private async withoutImported(meter: string, intervals: Interval[]): Promise<RegisterProblem[]> {
    if (!intervals.length) return [];
    const imported = await this.store.intervals(meter, intervals[0]!.from, intervals[intervals.length - 1]!.to);
    if (!imported.length) return [];
    const problems: RegisterProblem[] = [];
    for (const iv of intervals) {
      let inside = 0;
      for (const x of imported) {
        const o = Math.min(iv.to, x.end) - Math.max(iv.from, x.start);
        if (o > 0) inside += (x.amount * o) / (x.end - x.start);
      }
      if (inside === 0) continue;
      if (inside > iv.amount * 1.001 + 1e-9)
        problems.push({ from: iv.from, to: iv.to, message: `imported intervals hold ${round(inside)} between register readings that differ by ${round(iv.amount)}; the register difference counts nothing` });
      iv.amount = Math.max(0, iv.amount - inside);
    }
    return problems;
  }

  /** Readings of any age for a meter were stored behind the frontier: the next rollup recomputes from `ts`. */
  markDirty(meter: string, ts: number): Promise<void> {
    return this.store.markDirty(meter, ts);
  }

  private lastScanAt: number | undefined;

  private sharesNode(node: string, medium: Medium, meters: Map<string, number>): boolean {
    return this.contributions.some((c) => c.node === node && c.medium === medium && meters.has(c.meter));
  }

  /** The last reading strictly before `ts` (searched back in widening windows), or null. */
  private async readingBefore(meter: string, metric: string, ts: number): Promise<Reading | null> {
    for (const back of [DAY, 8 * DAY, 64 * DAY, 512 * DAY, ts]) {
      const from = Math.max(0, ts - back);
      const pts = await this.telemetry.query({ device: meter, metric, from, to: ts, stepMs: 60_000, agg: 'last' });
      const p = pts[pts.length - 1];
      if (p) return { ts: p[0], value: p[1] };
      if (from === 0) break;
    }
    return null;
  }

  /**
   * Per UTC day wholly before the frontier's day, the sum of the stored register readings; a day that is new or
   * whose sum grew holds readings that arrived late. Returns the start of the earliest such day. A day whose sum
   * shrank (retention) only updates its fingerprint.
   */
  private async scanLate(meter: string, metric: string, frontier: number): Promise<number | undefined> {
    const to = Math.floor(frontier / DAY) * DAY;
    const days = await this.telemetry.query({ device: meter, metric, from: 0, to, stepMs: DAY, agg: 'sum' });
    const known = await this.store.dayFingerprints(meter);
    const changed: Array<[number, number]> = [];
    let earliest: number | undefined;
    for (const [day, sum] of days) {
      const old = known.get(day);
      if (old !== undefined && Math.abs(sum - old) <= 1e-9 * Math.max(1, Math.abs(old))) continue;
      changed.push([day, sum]);
      if ((old === undefined || sum > old) && earliest === undefined) earliest = day;
    }
    await this.store.setDayFingerprints(meter, changed);
    return earliest;
  }

  private readonly recordedTo = new Map<string, number>();

  private async recordDays(meter: string, metric: string, frontier: number): Promise<void> {
    const to = Math.floor(frontier / DAY) * DAY;
    const from = this.recordedTo.get(meter) ?? 0;
    if (to <= from) return;
    const days = await this.telemetry.query({ device: meter, metric, from, to, stepMs: DAY, agg: 'sum' });
    const known = await this.store.dayFingerprints(meter);
    await this.store.setDayFingerprints(meter, days.filter(([day]) => !known.has(day)));
    this.recordedTo.set(meter, to);
  }

  /** Consumption of a meter, a virtual meter or a node (for a node, of `medium`, default power). Null: unknown id. */
  async consumption(id: string, from: number, to: number, step: Step, medium?: Medium): Promise<ConsumptionResult | null> {
    const f = this.formula(id, medium);
    if (!f) return null;
    const off = this.config.utcOffsetHours;
    if (f.kind === 'node' && f.formula.plus.length >= 2 && f.formula.minus.length === 0) {
      const points = (await this.store.nodeSeries(id, f.medium, from, to, step, off)).map((r): [number, number, string[]] => [r.start, round(r.amount), r.flags.sort()]);
      return { node: id, kind: f.kind, medium: f.medium, unit: UNITS[f.medium].amount, step, total: round(points.reduce((a, p) => a + p[1], 0)), points };
    }
    const rows = await this.store.series([...f.formula.plus, ...f.formula.minus], from, to, step, off);
    const minus = new Set(f.formula.minus);
    const byBucket = new Map<number, { amount: number; flags: Set<string> }>();
    for (const r of rows) {
      const b = byBucket.get(r.start) ?? { amount: 0, flags: new Set<string>() };
      b.amount += minus.has(r.meter) ? -r.amount : r.amount;
      for (const fl of r.flags) b.flags.add(fl);
      byBucket.set(r.start, b);
    }
    const points = [...byBucket.entries()].sort((a, b) => a[0] - b[0]).map(([t, b]): [number, number, string[]] => [t, round(b.amount), [...b.flags].sort()]);
    return { node: id, kind: f.kind, medium: f.medium, unit: UNITS[f.medium].amount, step, total: round(points.reduce((a, p) => a + p[1], 0)), points };
  }

  /** Cost of a node (all media), a meter or a virtual meter over [from, to). Null: unknown id. */
  async cost(id: string, from: number, to: number): Promise<CostResult | null> {
    const known = this.formula(id);
    if (!known) return null;
    const media = known.kind === 'node' ? MEDIA : [known.medium];
    const out: CostResult = { node: id, from, to, total: 0, media: [] };
    for (const medium of media) {
      const { formula } = this.formula(id, medium)!;
      if (formula.plus.length === 0) continue;
      const entry: CostResult['media'][number] = { medium, unit: UNITS[medium].amount, amount: 0, cost: 0, unpriced: 0, byTariff: [] };
      for (const [sign, ids] of [[1, formula.plus], [-1, formula.minus]] as const) {
        const groups = this.groupByTariff(ids, medium);
        for (const [tariffId, meters] of groups) {
          // A node whose meters share one TOU tariff is priced from its own 15-minute series.
          const whole = known.kind === 'node' && formula.plus.length >= 2 && groups.size === 1 && formula.minus.length === 0 && tariffId !== null && this.config.tariffs[tariffId]?.kind === 'tou';
          const part = whole ? await this.touCostOfNode(id, medium, tariffId, from, to) : await this.costOf(meters, tariffId, from, to);
          entry.amount += sign * part.amount;
          entry.cost += sign * part.cost;
          entry.unpriced += sign * part.unpriced;
          if (part.byBand) {
            entry.byBand ??= { peak: { amount: 0, cost: 0 }, flat: { amount: 0, cost: 0 }, valley: { amount: 0, cost: 0 } };
            for (const band of ['peak', 'flat', 'valley'] as const) {
              entry.byBand[band].amount += sign * part.byBand[band].amount;
              entry.byBand[band].cost += sign * part.byBand[band].cost;
            }
          }
          const row = entry.byTariff.find((t) => t.tariff === tariffId);
          if (row) {
            row.amount += sign * part.amount;
            row.cost += sign * part.cost;
          } else entry.byTariff.push({ tariff: tariffId, amount: sign * part.amount, cost: sign * part.cost });
        }
      }
      out.media.push(roundDeep(entry));
      out.total += entry.cost;
    }
    out.total = round(out.total);
    return out;
  }

  private async touCostOfNode(node: string, medium: Medium, tariffId: string, from: number, to: number) {
    const off = this.config.utcOffsetHours;
    const series = await this.store.nodeSeries(node, medium, from, to, '15m', off);
    const c = touCost(
      series.map((r) => [r.start, r.amount] as const),
      this.config.tariffs[tariffId] as Extract<EnergyConfig['tariffs'][string], { kind: 'tou' }>,
      off,
    );
    return { amount: c.amount, cost: c.cost, unpriced: c.unpriced, byBand: c.byBand };
  }

  private groupByTariff(meters: readonly string[], medium: Medium): Map<string | null, string[]> {
    const groups = new Map<string | null, string[]>();
    for (const id of meters) {
      const m = this.meterById.get(id)!;
      const t = m.tariff ?? this.config.defaultTariffs[medium] ?? null;
      groups.set(t, [...(groups.get(t) ?? []), id]);
    }
    return groups;
  }

  private async costOf(meters: string[], tariffId: string | null, from: number, to: number): Promise<{ amount: number; cost: number; unpriced: number; byBand?: Record<Band, { amount: number; cost: number }> }> {
    const off = this.config.utcOffsetHours;
    const tariff = tariffId === null ? undefined : this.config.tariffs[tariffId];
    if (!tariff) {
      const total = (await this.store.total(meters, from, to, '1mo', off)).reduce((a, [, v]) => a + v, 0);
      return { amount: 0, cost: 0, unpriced: total };
    }
    if (tariff.kind === 'tou') {
      const c = touCost(await this.store.total(meters, from, to, '15m', off), tariff, off);
      return { amount: c.amount, cost: c.cost, unpriced: c.unpriced, byBand: c.byBand };
    }
    // Tiers apply per meter per local month; use earlier in the same month counts towards the tiers.
    let amount = 0;
    let cost = 0;
    const monthStart = bucketStart(from, '1mo', off);
    const before = from > monthStart ? await this.store.series(meters, monthStart, from, '1mo', off) : [];
    for (const r of await this.store.series(meters, from, to, '1mo', off)) {
      const used = r.start === monthStart ? (before.find((b) => b.meter === r.meter)?.amount ?? 0) : 0;
      amount += r.amount;
      cost += tieredCost(r.amount, tariff, used).cost;
    }
    return { amount, cost, unpriced: 0 };
  }

  registerProblems(): Array<{ meter: string } & RegisterProblem> {
    return [...this.problems.entries()].flatMap(([meter, list]) => list.map((p) => ({ meter, ...p })));
  }

  /** Retention hook for hub/src/lifecycle (LifecycleOptions.pruneRollups): rollups before `before` go. */
  pruneRollups(before: number): Promise<number> {
    return this.store.pruneBefore(before);
  }

  /** `warden backup` of energy.duckdb while the hub runs (hub/src/lifecycle/backup.ts). */
  backupTo(file: string): Promise<void> {
    return this.store.backupTo(file);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;
function roundDeep<T>(o: T): T {
  if (typeof o === 'number') return round(o) as T;
  if (Array.isArray(o)) return o.map(roundDeep) as T;
  if (o && typeof o === 'object') return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, roundDeep(v)])) as T;
  return o;
}
