import type { Logger } from 'pino';
import type { AuditLog } from '../../audit.ts';
import { sendCommand, type CommandDeps } from '../../commands.ts';
import type { StoredEvent } from '../../store/events.ts';
import type { Calendar } from '../baselines.ts';
import { effectiveState, type Override, type WeeklySchedule } from './weekly.ts';

export const SCHEDULES_ACTOR = 'system:schedules';

export interface CircuitStatus {
  circuit: string;
  schedule: string;
  /** What the schedule (or an override) wants now. */
  wanted: { on: boolean; level: number; reason: string };
  /** Last command sent and whether the actuator confirmed it. */
  sent: { on: boolean; level: number; commandId: string; at: number; confirmed: boolean | null; error?: string } | null;
}

export interface ScheduleRunnerDeps {
  schedules: readonly WeeklySchedule[];
  calendar: Calendar;
  utcOffsetHours: number;
  commands: CommandDeps;
  audit: AuditLog;
  /** Delivers stored events (in the hub: the hub bus; the runner takes its commands' `command.result`); returns an unsubscribe function. */
  subscribe(listener: (e: StoredEvent) => void): () => void;
  log: Logger;
  clock?: () => number;
}

/**
 * Drives lighting and HVAC circuits from their weekly schedules: on each tick, every circuit whose
 * wanted state (schedule, or a live manual override) differs from what was last sent gets an
 * `actuator.set` command, the same way an operator's command goes (contract-validated, to the device's
 * own gateway), audited as `system:schedules`. The actuator's `command.result` confirms it (audited
 * too); a refused or unsent command is retried on the next tick. Overrides lapse by themselves.
 */
export class ScheduleRunner {
  private readonly sent = new Map<string, NonNullable<CircuitStatus['sent']>>();
  private readonly byCommand = new Map<string, string>();
  private overrides: Override[] = [];
  /** Circuits switched off by the demand limiter, with why; they stay off until released. */
  private readonly shedding = new Map<string, string>();
  private readonly clock: () => number;
  private readonly unsubscribe: () => void;

  constructor(private readonly d: ScheduleRunnerDeps) {
    this.clock = d.clock ?? Date.now;
    this.unsubscribe = d.subscribe((e) => this.onResult(e));
  }

  /** Commands sent and not yet confirmed or refused. */
  pending(): number {
    return this.byCommand.size;
  }

  private scheduleOf(circuit: string): WeeklySchedule | undefined {
    return this.d.schedules.find((s) => s.circuits.includes(circuit));
  }

  /** Demand limiting: shed (reason) or release a circuit; applied at the next tick, shedding wins over schedule and override. */
  setShed(circuit: string, reason: string | null): void {
    if (reason === null) this.shedding.delete(circuit);
    else this.shedding.set(circuit, reason);
  }

  shed(): ReadonlyMap<string, string> {
    return this.shedding;
  }

  status(now = this.clock()): CircuitStatus[] {
    return this.d.schedules.flatMap((s) =>
      s.circuits.map((circuit) => {
        const shedReason = this.shedding.get(circuit);
        const w = shedReason !== undefined ? { on: false, level: 0, reason: shedReason } : effectiveState(s, circuit, this.overrides, now, this.d.calendar, this.d.utcOffsetHours);
        return { circuit, schedule: s.id, wanted: { on: w.on, level: w.level, reason: w.reason }, sent: this.sent.get(circuit) ?? null };
      }),
    );
  }

  /** A manual override by a person; audited, applied at once, lapses at `until`. */
  async override(circuit: string, on: boolean, level: number | undefined, until: number, by: string): Promise<CircuitStatus> {
    if (!this.scheduleOf(circuit)) throw new Error(`circuit ${circuit} is in no schedule`);
    const now = this.clock();
    this.overrides = [...this.overrides.filter((o) => o.until > now), { circuit, on, ...(level === undefined ? {} : { level }), until, by }];
    this.d.audit.record(by, 'schedule.override', circuit, { on, level: level ?? null, until }, now);
    await this.tick(now);
    return this.status(now).find((c) => c.circuit === circuit)!;
  }

  async tick(now = this.clock()): Promise<void> {
    this.overrides = this.overrides.filter((o) => o.until > now);
    for (const c of this.status(now)) {
      const last = c.sent;
      const pending = last && last.confirmed !== false && last.error === undefined;
      if (pending && last.on === c.wanted.on && last.level === c.wanted.level) continue;
      const params = c.wanted.on ? { on: true, level: c.wanted.level } : { on: false };
      try {
        const cmd = await sendCommand(this.d.commands, ['admin'], c.circuit, 'actuator.set', params, now);
        this.sent.set(c.circuit, { on: c.wanted.on, level: c.wanted.level, commandId: cmd.commandId, at: now, confirmed: null });
        this.byCommand.set(cmd.commandId, c.circuit);
        this.d.audit.record(SCHEDULES_ACTOR, 'schedule.command', c.circuit, { schedule: c.schedule, params, reason: c.wanted.reason, commandId: cmd.commandId }, now);
      } catch (err) {
        const error = (err as Error).message;
        this.sent.set(c.circuit, { on: c.wanted.on, level: c.wanted.level, commandId: '', at: now, confirmed: false, error });
        this.d.audit.record(SCHEDULES_ACTOR, 'schedule.command', c.circuit, { schedule: c.schedule, params, reason: c.wanted.reason, error }, now);
        this.d.log.warn({ circuit: c.circuit, err: error }, 'schedule command not sent; retried on the next tick');
      }
    }
  }

  private onResult(e: StoredEvent): void {
    if (e.type !== 'command.result') return;
    const commandId = String(e.data.command ?? '');
    const circuit = this.byCommand.get(commandId);
    if (!circuit) return;
    this.byCommand.delete(commandId);
    const s = this.sent.get(circuit);
    if (!s || s.commandId !== commandId) return;
    s.confirmed = e.data.ok === true;
    if (!s.confirmed) s.error = String(e.data.error ?? 'refused');
    this.d.audit.record(SCHEDULES_ACTOR, 'schedule.confirmed', circuit, { commandId, ok: s.confirmed, ...(s.error ? { error: s.error } : {}) }, e.ts);
  }

  stop(): void {
    this.unsubscribe();
  }
}
