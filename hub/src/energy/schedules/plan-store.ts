import type { StateDb } from '../../store/state-db.ts';
import type { WeeklySchedule } from './weekly.ts';

/** The editable part of a weekly schedule: its plans. Which circuits it switches stays in the config. */
export type SchedulePlan = Omit<WeeklySchedule, 'id' | 'circuits'>;

export interface StoredPlan {
  id: string;
  plan: SchedulePlan;
  updatedAt: number;
  updatedBy: string;
}

/**
 * Weekly plans edited in the console, kept in the hub's SQLite state (table `energy_schedule_plans`): an
 * edited plan replaces the config's plan of the same schedule id, across restarts, until edited again.
 */
export class SchedulePlanStore {
  private readonly q;
  constructor(db: StateDb) {
    this.q = {
      all: db.prepare<[], { id: string; plan: string; updated_at: number; updated_by: string }>('SELECT id, plan, updated_at, updated_by FROM energy_schedule_plans'),
      put: db.prepare(
        'INSERT INTO energy_schedule_plans (id, plan, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET plan = excluded.plan, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
      ),
    };
  }

  all(): StoredPlan[] {
    return this.q.all.all().map((r) => ({ id: r.id, plan: JSON.parse(r.plan) as SchedulePlan, updatedAt: r.updated_at, updatedBy: r.updated_by }));
  }

  put(id: string, plan: SchedulePlan, by: string, now = Date.now()): void {
    this.q.put.run(id, JSON.stringify(plan), now, by);
  }
}
