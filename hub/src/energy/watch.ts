import type { Logger } from 'pino';
import type { StoredEvent } from '../store/events.ts';
import { ENERGY_ANOMALY_EVENT, ENERGY_NORMAL_EVENT } from '../alarms/rules/energy-anomaly.ts';
import type { EnergyConfig } from './config.ts';
import { DetectorRun, type AlertKind, type Detection, type DetectorOptions, type EnergyAlert } from './detection/detector.ts';
import type { AnomalyFeedbackStore } from './feedback.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const UNIT = { power: 'kWh', water: 'm³', gas: 'm³' } as const;

export interface EnergyWatchDeps {
  config: EnergyConfig;
  /** A meter's hourly consumption in [from, to): [hour start, amount], oldest first; absent hours were not measured. */
  hourly(meter: string, from: number, to: number): Promise<ReadonlyArray<readonly [number, number]>>;
  feedback: AnomalyFeedbackStore;
  /** Hands a hub-made `energy.anomaly` / `energy.normal` event to the alarm engine. */
  emit(e: StoredEvent): void;
  log: Logger;
  /** History each evaluation looks at. Default 91 days. */
  windowDays?: number;
  /** An hour is judged this long after it ends, so its last readings have arrived. Default 10 minutes. */
  graceMs?: number;
  /**
   * Backfilled hours (an import, a late outbox batch) are judged when the rollup recomputes them; an alert they
   * show that ended less than this many days before now raises an alarm, an older one only appears in the anomaly
   * list. Default `config.anomalies.backfillAlarmDays` (7).
   */
  backfillAlarmDays?: number;
}

/**
 * Anomalies as data arrives: once per completed hour, the detector (detection/) runs over each physical meter's
 * hourly use of the last `windowDays`, with the campus calendar and the facilities' "not an anomaly" windows, and
 * every alert that is new or still going becomes an `energy.anomaly` for the alarm engine (rule energy-anomaly);
 * an alert that has ended, or was dismissed, becomes `energy.normal`.
 */
export class EnergyWatch {
  /** End of the last hour judged. */
  private judgedTo: number | null = null;
  /** meter|kind → the alert going on at the last hour judged. */
  private readonly ongoing = new Map<string, EnergyAlert>();
  /**
   * Per meter, the detector's running state (cached baselines): each hour only the new hours are fetched and judged.
   * Rebuilt from the window when the meter's hours were backfilled, its "not an anomaly" feedback changed, or the
   * series grew a week past the window.
   */
  private readonly runs = new Map<string, { run: DetectorRun; end: number; feedback: string }>();
  /** Meters judged from scratch and incrementally since start (for the bench and the tests). */
  readonly stats = { full: 0, incremental: 0 };
  /** meter|kind|from of alerts announced, so a backfill recomputation does not raise them again. */
  private readonly announced = new Map<string, number>();

  constructor(private readonly d: EnergyWatchDeps) {}

  /**
   * Judges the hours completed since the last call, and the meters whose hours were backfilled (`backfilled`: meter →
   * earliest recomputed time, from the rollup) even when no new hour is due. Returns how many meters were looked at.
   */
  async tick(now: number, backfilled: ReadonlyMap<string, number> = new Map()): Promise<number> {
    const end = Math.floor((now - (this.d.graceMs ?? 10 * 60_000)) / HOUR) * HOUR;
    const due = this.judgedTo === null || end > this.judgedTo;
    if (!due && backfilled.size === 0) return 0;
    // After a start, only what is going on now or ended in the last two hours is (re)announced; open alarms fold it.
    const since = this.judgedTo ?? end - 2 * HOUR;
    const windowDays = this.d.windowDays ?? 91;
    const from = end - windowDays * DAY;
    const alarmFloor = end - Math.min(windowDays, this.d.backfillAlarmDays ?? this.d.config.anomalies.backfillAlarmDays) * DAY;
    let meters = 0;
    for (const m of this.d.config.meters) {
      const back = backfilled.get(m.id);
      if (!due && back === undefined) continue;
      try {
        const detection = await this.detection(m.id, m.medium, from, end, back !== undefined, windowDays);
        if (!detection) continue;
        meters++;
        // Backfilled hours: alerts ending after the earliest recomputed hour, but not older than the alarm floor.
        const sinceM = back === undefined ? since : Math.min(since, Math.max(back, alarmFloor));
        this.judge(m.id, detection, end, sinceM, now, back !== undefined);
      } catch (err) {
        this.d.log.error({ err, meter: m.id }, 'energy anomaly detection failed');
      }
    }
    if (due) this.judgedTo = end;
    for (const [k, to] of this.announced) if (to <= from) this.announced.delete(k);
    return meters;
  }

  /** The meter's detection up to `end`: its cached run extended by the new hours, or a new run over the window. */
  private async detection(meter: string, medium: 'power' | 'water' | 'gas', from: number, end: number, backfilled: boolean, windowDays: number): Promise<Detection | null> {
    const fb = this.d.feedback.list(meter);
    const feedback = `${fb.length}|${fb.at(-1)?.id ?? ''}`;
    const cached = this.runs.get(meter);
    if (cached && !backfilled && cached.feedback === feedback && end - cached.run.start <= (windowDays + 7) * DAY) {
      if (end > cached.end) {
        const rows = await this.d.hourly(meter, cached.end, end);
        cached.run.extend(hourValues(rows, cached.end, end));
        cached.end = end;
      }
      this.stats.incremental++;
      return cached.run.result();
    }
    const rows = await this.d.hourly(meter, from, end);
    if (!rows.length) {
      this.runs.delete(meter);
      return null;
    }
    const run = new DetectorRun(rows[0]![0], detectorOptions(this.d.config, this.d.feedback, meter, medium));
    run.extend(hourValues(rows, rows[0]![0], end));
    this.runs.set(meter, { run, end, feedback });
    this.stats.full++;
    return run.result();
  }

  private judge(meter: string, detection: Detection, end: number, since: number, now: number, backfill: boolean): void {
    const { alerts } = detection;
    const goingOn = new Map<AlertKind, EnergyAlert>();
    for (const a of alerts) {
      if (a.suppressedBy || a.to <= since) continue;
      const key = `${meter}|${a.kind}|${a.from}`;
      // A backfill recomputation finds alerts already announced (and maybe acknowledged since): not raised again.
      if (backfill && a.to < end && this.announced.has(key)) continue;
      this.announced.set(key, a.to);
      this.emit(ENERGY_ANOMALY_EVENT, meter, a.kind, now, {
        kind: a.kind,
        direction: a.direction,
        from: a.from,
        to: a.to,
        hours: a.hours,
        numbers: a.numbers,
        key: a.text.key,
        params: a.text.params,
        en: a.text.en,
        zh: a.text.zh,
      });
      if (a.to === end) goingOn.set(a.kind, a);
      else this.emit(ENERGY_NORMAL_EVENT, meter, a.kind, now, { kind: a.kind, endedAt: a.to }, a.from);
    }
    for (const [key, a] of this.ongoing) {
      if (!key.startsWith(`${meter}|`) || goingOn.has(a.kind)) continue;
      this.ongoing.delete(key);
      this.emit(ENERGY_NORMAL_EVENT, meter, a.kind, now, { kind: a.kind, endedAt: end }, a.from);
    }
    for (const [kind, a] of goingOn) this.ongoing.set(`${meter}|${kind}`, a);
  }

  private emit(type: string, meter: string, kind: AlertKind, now: number, data: Record<string, unknown>, alertFrom = Number(data.from ?? now)): void {
    this.d.emit({ id: `hub-${type}-${meter}-${kind}-${alertFrom}-${now}`, seq: 0, gateway: 'hub', device: meter, type, ts: now, receivedAt: now, data });
  }
}

/** One value per hour of [start, end) from hourly rows (absent hours: null, not measured). */
function hourValues(rows: ReadonlyArray<readonly [number, number]>, start: number, end: number): Array<number | null> {
  const values: Array<number | null> = new Array(Math.max(0, Math.round((end - start) / HOUR))).fill(null);
  for (const [t, v] of rows) {
    const i = Math.round((t - start) / HOUR);
    if (i >= 0 && i < values.length) values[i] = v;
  }
  return values;
}

/** The detector's options for a meter: the campus calendar, its medium and unit, its "not an anomaly" feedback. */
function detectorOptions(config: EnergyConfig, feedback: AnomalyFeedbackStore, meter: string, medium: 'power' | 'water' | 'gas'): DetectorOptions {
  const cal = config.calendar;
  const dismissed = feedback.list(meter).map((f) => ({ id: f.id, from: f.from, to: f.to, at: f.at, ...(f.kind ? { kind: f.kind } : {}) }));
  return { calendar: { utcOffsetHours: config.utcOffsetHours, holidays: cal.holidays, vacations: cal.vacations }, medium, unit: UNIT[medium], dismissed };
}

/**
 * The detector over one meter's hourly rows up to `end` (exclusive), with the campus calendar and the meter's
 * "not an anomaly" feedback: what the console charts (the watch keeps a running state per meter instead).
 */
export function detectMeter(config: EnergyConfig, feedback: AnomalyFeedbackStore, meter: string, medium: 'power' | 'water' | 'gas', rows: ReadonlyArray<readonly [number, number]>, end: number): Detection {
  if (!rows.length) return { hours: [], alerts: [] };
  const run = new DetectorRun(rows[0]![0], detectorOptions(config, feedback, meter, medium));
  run.extend(hourValues(rows, rows[0]![0], end));
  return run.result();
}
