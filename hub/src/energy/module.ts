import type { EnergyImportResult } from '@warden/contract';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { AuditLog } from '../audit.ts';
import { HubError } from '../errors.ts';
import type { Clock, HubContext, HubModule } from '../module.ts';
import { startedOr } from '../module.ts';
import type { AlertKind, Detection, EnergyAlert, Medium } from './detection/detector.ts';
import { AnomalyFeedbackStore, type AnomalyFeedback } from './feedback.ts';
import { DemandLimiter } from './schedules/demand.ts';
import { ScheduleEditor, type EditedSchedule } from './schedules/editor.ts';
import { SchedulePlanStore, type SchedulePlan } from './schedules/plan-store.ts';
import { ScheduleRunner, type CircuitStatus } from './schedules/runner.ts';
import type { WeeklySchedule } from './schedules/weekly.ts';
import { EnergyService } from './service.ts';
import { detectMeter, EnergyWatch } from './watch.ts';

const ROLLUP_EVERY_MS = 60_000;
const SCHEDULE_TICK_MS = 30_000;
/** The first schedule tick waits for the gateways to reconnect after a hub restart; until then a command would only fail. */
const FIRST_TICK_MS = 5_000;
/** A building's power reading older than this is no basis for switching anything. */
const POWER_MAX_AGE_MS = 300_000;

interface Running {
  service: EnergyService;
  editor: ScheduleEditor;
  runner: ScheduleRunner;
  limiter: DemandLimiter;
  clock: Clock;
  log: Logger;
  feedback: AnomalyFeedbackStore;
  watch: EnergyWatch;
  audit: AuditLog;
}

/** What the energy module needs of the alarms module (started before it): its engine, for energy alarms. */
export interface EnergyModuleDeps {
  alarms?: { readonly engine: AlarmEngine };
}

/**
 * Energy as a hub module: the EnergyService (its own DuckDB file `energy.duckdb` in the data dir) with the rollup
 * that turns meter registers from telemetry into 15-minute consumption once a minute; the schedules in force
 * (config plans, each replaced by its edit stored in `state.db`), the ScheduleRunner sending `actuator.set` every
 * 30 s and the DemandLimiter shedding before it. Command confirmations (`command.result`) reach the runner on the
 * hub bus. All of it reads time from the hub clock. The REST routes (api/routes/energy.ts) only translate requests
 * to the methods below.
 */
export class EnergyModule implements HubModule {
  readonly name = 'energy';
  private r: Running | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Rollups run one at a time (the timer's and a request's `refresh`). */
  private rolling: Promise<unknown> = Promise.resolve();
  private ticking: Promise<unknown> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly deps: EnergyModuleDeps = {}) {}

  private get running(): Running {
    return startedOr(this.r, this.name);
  }

  /** Consumption, cost, hierarchy and anomaly queries. */
  get service(): EnergyService {
    return this.running.service;
  }

  now(): number {
    return this.running.clock();
  }

  async start(ctx: HubContext): Promise<void> {
    const { config, stores, bus, log, clock } = ctx;
    const energy = config.energy;
    const service = await EnergyService.open(join(config.dataDir, 'energy.duckdb'), energy, stores.telemetry, log);
    const editor = new ScheduleEditor(energy.schedules as unknown as WeeklySchedule[], new SchedulePlanStore(stores.db), stores.audit, log);
    const runner = new ScheduleRunner({
      schedules: editor.schedules,
      calendar: energy.calendar,
      utcOffsetHours: energy.utcOffsetHours,
      commands: ctx.commands,
      audit: stores.audit,
      // Stored events from the hub bus; the runner takes the command.results of its own commands.
      subscribe: (listener) => {
        bus.on('event', listener);
        return () => void bus.off('event', listener);
      },
      log,
      clock,
    });
    this.unsubscribe = () => runner.stop();
    const limiter = new DemandLimiter({
      limits: energy.demandLimits,
      runner,
      audit: stores.audit,
      powerKw: async (meter) => {
        const now = clock();
        const points = await stores.telemetry.query({ device: meter, metric: 'power_kw', from: now - POWER_MAX_AGE_MS, to: now + 1, stepMs: POWER_MAX_AGE_MS + 1, agg: 'last' });
        return points.at(-1)?.[1] ?? null;
      },
    });
    const feedback = new AnomalyFeedbackStore(stores.db);
    const alarmsOn = config.alarms.enabled;
    const watch = new EnergyWatch({
      config: energy,
      // An hour that closes a gap holds the use of the whole gap: not a measured hour, so left out (missing).
      hourly: async (meter, from, to) => (await service.consumption(meter, from, to, '1h'))?.points.filter((p) => !p[2].includes('gap')).map(([t, v]) => [t, v] as const) ?? [],
      feedback,
      emit: (e) => {
        if (alarmsOn) this.deps.alarms?.engine.handle(e);
      },
      log,
    });
    this.r = { service, editor, runner, limiter, clock, log, feedback, watch, audit: stores.audit };

    const rollupTimer = setInterval(() => void this.rollup(), ROLLUP_EVERY_MS);
    const scheduleTimer = setInterval(() => void this.scheduleTick(), SCHEDULE_TICK_MS);
    const firstTick = setTimeout(() => void this.scheduleTick(), FIRST_TICK_MS);
    for (const t of [rollupTimer, scheduleTimer, firstTick]) {
      t.unref();
      this.timers.push(t);
    }
  }

  /** Rolls the newest register readings into consumption (also once a minute by itself); errors are logged. */
  rollup(): Promise<unknown> {
    const { service, clock, log, watch } = this.running;
    this.rolling = this.rolling
      .then(() => service.rollup(clock()))
      // Each completed hour, the anomaly detector over every meter: energy alarms as data arrives; and at once over
      // the meters whose hours were backfilled (a late outbox batch found by the rollup).
      .then((r) => watch.tick(clock(), r.backfilled))
      .catch((err: unknown) => log.error({ err }, 'energy rollup failed'));
    return this.rolling;
  }

  /**
   * History import (POST /api/energy/import): in the rollup's queue, so it never interleaves with a rollup; the
   * readings are stored, the affected buckets recomputed by the rollup that follows, and the import audited.
   */
  importHistory(file: { format: 'csv' | 'xlsx'; data: Buffer; dryRun: boolean }, by: string): Promise<EnergyImportResult> {
    const { service, clock, audit } = this.running;
    const job = this.rolling.then(async () => {
      const result = await service.importHistory(file, clock());
      if (result.ok && !file.dryRun) {
        if (result.imported > 0) {
          const r = await service.rollup(clock(), { scanLate: false });
          // Imported hours are judged now: recent alerts raise energy alarms (energy.anomalies.backfillAlarmDays).
          await this.running.watch.tick(clock(), r.backfilled);
        }
        audit.record(by, 'energy.history_imported', result.meters.map((m) => m.meter).join(',').slice(0, 200), { rows: result.rows, imported: result.imported, unchanged: result.unchanged, format: file.format }, clock());
      }
      return result;
    });
    this.rolling = job.catch(() => undefined);
    return job;
  }

  /**
   * Facilities: "not an anomaly" for a meter's window (optionally one kind). Kept (state.db), audited, and used:
   * the detector leaves the window out of its baselines and suppresses the same pattern afterwards. An energy
   * alarm named by `alarm` is resolved with the note.
   */
  dismissAnomaly(input: { meter: string; kind?: AlertKind | undefined; from: number; to: number; note?: string | undefined; alarm?: string | undefined }, by: string): AnomalyFeedback {
    const { feedback, clock, audit } = this.running;
    if (!this.running.service.config.meters.some((m) => m.id === input.meter)) throw new HubError('not_found', `energy meter ${input.meter}`);
    if (input.from >= input.to) throw new HubError('bad_request', '`from` must be before `to`');
    const alarmEngine = this.deps.alarms?.engine;
    const alarm = input.alarm === undefined ? null : (alarmEngine?.get(input.alarm) ?? null);
    if (input.alarm !== undefined && (!alarm || !alarm.type.startsWith('energy.') || alarm.device !== input.meter)) throw new HubError('not_found', `energy alarm ${input.alarm} of meter ${input.meter}`);
    const now = clock();
    const f = feedback.add({ meter: input.meter, kind: input.kind ?? null, from: input.from, to: input.to, note: input.note ?? null, by, at: now });
    audit.record(by, 'energy.anomaly_dismissed', input.meter, { feedback: f.id, kind: f.kind, from: f.from, to: f.to, note: f.note, alarm: input.alarm ?? null }, now);
    if (alarm && alarm.state !== 'resolved') alarmEngine!.resolve(alarm.id, by, `not an anomaly${f.note ? `: ${f.note}` : ''}`);
    return f;
  }

  /**
   * What the detector sees on one meter over [from, to): each hour with its expected value and band, and the alerts
   * overlapping the period (91 days before `from` serve as history). Null: not a physical meter.
   */
  async detection(meter: string, from: number, to: number): Promise<{ meter: string; unit: string; from: number; to: number; hours: Detection['hours']; alerts: Detection['alerts'] } | null> {
    const { service, feedback } = this.running;
    const m = service.config.meters.find((x) => x.id === meter);
    if (!m) return null;
    const HOUR = 3_600_000;
    const end = Math.ceil(to / HOUR) * HOUR;
    const r = await service.consumption(meter, Math.floor(from / HOUR) * HOUR - 91 * 86_400_000, end, '1h');
    const rows = r?.points.filter((p) => !p[2].includes('gap')).map(([t, v]) => [t, v] as const) ?? [];
    const d = detectMeter(service.config, feedback, meter, m.medium, rows, end);
    return {
      meter,
      unit: r?.unit ?? (m.medium === 'power' ? 'kWh' : 'm³'),
      from,
      to,
      hours: d.hours.filter((h) => h.ts >= from && h.ts < to),
      alerts: d.alerts.filter((a) => a.to > from && a.from < to),
    };
  }

  /**
   * The anomaly list (GET /api/energy/anomalies): the detector's alerts on every physical meter (or one) overlapping
   * [from, to), oldest first, with the register problems the rollup found. Null: `meter` is not a physical meter.
   */
  async anomalies(from: number, to: number, meter?: string): Promise<{ anomalies: Array<EnergyAlert & { meter: string; medium: Medium; unit: string }>; registerProblems: Array<{ meter: string; from: number; to: number; message: string }> } | null> {
    const { service } = this.running;
    const meters = service.config.meters.filter((m) => meter === undefined || m.id === meter);
    if (meter !== undefined && meters.length === 0) return null;
    const out: Array<EnergyAlert & { meter: string; medium: Medium; unit: string }> = [];
    for (const m of meters) {
      const d = await this.detection(m.id, from, to);
      if (d) for (const a of d.alerts) out.push({ meter: m.id, medium: m.medium, unit: d.unit, ...a });
    }
    return {
      anomalies: out.sort((a, b) => a.from - b.from || a.meter.localeCompare(b.meter)),
      registerProblems: service.registerProblems().filter((p) => (meter === undefined || p.meter === meter) && p.to > from && p.from < to),
    };
  }

  /** The "not an anomaly" feedback kept so far, oldest first (of one meter, or all). */
  anomalyFeedback(meter?: string): AnomalyFeedback[] {
    return this.running.feedback.list(meter);
  }

  /** Demand limits first (they may shed circuits), then the schedules; every 30 s by itself. */
  scheduleTick(): Promise<unknown> {
    const { limiter, runner, clock, log } = this.running;
    this.ticking = this.ticking
      .then(() => limiter.tick(clock()))
      .then(() => runner.tick())
      .catch((err: unknown) => log.error({ err }, 'schedule tick failed'));
    return this.ticking;
  }

  /** The schedules in force (config plans, edited ones marked `edited`). */
  schedules(): readonly EditedSchedule[] {
    return this.running.editor.schedules;
  }

  hasSchedule(id: string): boolean {
    return this.running.editor.schedules.some((s) => s.id === id);
  }

  /** Each scheduled circuit: what it should be now and the last command sent with its confirmation. */
  circuits(): CircuitStatus[] {
    return this.running.runner.status();
  }

  /** Stores, audits and applies an edited plan at once; unknown ids throw UnknownScheduleError. */
  editSchedule(id: string, plan: SchedulePlan, by: string): Promise<{ schedule: EditedSchedule; circuits: CircuitStatus[] }> {
    const { editor, runner, clock } = this.running;
    return editor.edit(id, plan, by, runner, clock());
  }

  /** A person's override of one circuit for `minutes`, audited, applied at once; lapses back to the schedule. */
  override(circuit: string, on: boolean, level: number | undefined, minutes: number, by: string): Promise<CircuitStatus> {
    const { runner, clock } = this.running;
    return runner.override(circuit, on, level, clock() + minutes * 60_000, by);
  }

  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.unsubscribe?.();
    await this.ticking;
    await this.rolling;
    const r = this.r;
    this.r = undefined;
    await r?.service.close();
  }
}
