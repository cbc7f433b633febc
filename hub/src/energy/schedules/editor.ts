import type { Logger } from 'pino';
import type { AuditLog } from '../../audit.ts';
import type { CircuitStatus, ScheduleRunner } from './runner.ts';
import type { SchedulePlan, SchedulePlanStore } from './plan-store.ts';
import type { WeeklySchedule } from './weekly.ts';

export interface EditedSchedule extends WeeklySchedule {
  /** Set when the plan in force was edited in the console rather than taken from the config. */
  edited?: { at: number; by: string };
}

export class UnknownScheduleError extends Error {}

/**
 * The schedules in force: the config's, each replaced by its stored edit if there is one. An edit is stored,
 * audited (`schedule.edit`, with the plan before and after) and applied at once: the runner ticks, so every
 * circuit whose wanted state changed gets its `actuator.set` command, whose confirmation the runner tracks.
 *
 * `schedules` is the very array the runner reads, so replacing an entry is all the runner needs.
 */
export class ScheduleEditor {
  readonly schedules: EditedSchedule[];

  constructor(
    configured: readonly WeeklySchedule[],
    private readonly store: SchedulePlanStore | undefined,
    private readonly audit: AuditLog,
    log: Logger,
  ) {
    this.schedules = configured.map((s) => ({ ...s }));
    for (const stored of store?.all() ?? []) {
      const i = this.schedules.findIndex((s) => s.id === stored.id);
      // A schedule removed from the config takes its edit with it: there are no circuits left to switch.
      if (i < 0) log.warn({ schedule: stored.id }, 'stored schedule edit for a schedule no longer in the config; ignored');
      else this.schedules[i] = withPlan(this.schedules[i]!, stored.plan, { at: stored.updatedAt, by: stored.updatedBy });
    }
  }

  planOf(s: WeeklySchedule): SchedulePlan {
    return { term: s.term, ...(s.vacation ? { vacation: s.vacation } : {}), ...(s.holiday ? { holiday: s.holiday } : {}), ...(s.exceptions ? { exceptions: s.exceptions } : {}) };
  }

  async edit(id: string, plan: SchedulePlan, by: string, runner: ScheduleRunner, now = Date.now()): Promise<{ schedule: EditedSchedule; circuits: CircuitStatus[] }> {
    const i = this.schedules.findIndex((s) => s.id === id);
    if (i < 0) throw new UnknownScheduleError(`schedule ${id}`);
    const before = this.planOf(this.schedules[i]!);
    this.store?.put(id, plan, by, now);
    const schedule = withPlan(this.schedules[i]!, plan, { at: now, by });
    this.schedules[i] = schedule;
    this.audit.record(by, 'schedule.edit', id, { before, after: plan }, now);
    await runner.tick(now);
    return { schedule, circuits: runner.status(now).filter((c) => c.schedule === id) };
  }
}

function withPlan(s: WeeklySchedule, plan: SchedulePlan, edited: { at: number; by: string }): EditedSchedule {
  return { id: s.id, circuits: s.circuits, ...plan, edited };
}
