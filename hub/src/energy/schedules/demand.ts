import type { AuditLog } from '../../audit.ts';
import { planRestore, planShedding, type Load } from './shedding.ts';
import { SCHEDULES_ACTOR, type ScheduleRunner } from './runner.ts';

export interface DemandLimit {
  /** Building (node) the limit applies to, for messages. */
  building: string;
  /** Its main power meter (device id); its latest `power_kw` is the demand. */
  meter: string;
  limitKw: number;
  /** Restore a load only when demand plus it stays this far under the limit. */
  marginKw: number;
  loads: Array<{ circuit: string; priority: number; kw: number; sheddable?: boolean }>;
}

/**
 * Keeps buildings under their demand limit: reads each building's power, sheds the lowest-priority
 * scheduled circuits when it is over (planShedding), and releases them, most important first, when
 * there is room (planRestore). The ScheduleRunner sends the commands; each decision is audited with
 * its explanation as `system:schedules` `demand.shed` / `demand.restore`.
 */
export class DemandLimiter {
  constructor(
    private readonly d: {
      limits: readonly DemandLimit[];
      runner: ScheduleRunner;
      audit: AuditLog;
      /** Latest building power in kW, or null when unknown (then nothing is decided). */
      powerKw(meter: string): Promise<number | null>;
    },
  ) {}

  async tick(now = Date.now()): Promise<Array<{ building: string; shed: string[]; restore: string[]; explanation: string }>> {
    const out: Array<{ building: string; shed: string[]; restore: string[]; explanation: string }> = [];
    for (const limit of this.d.limits) {
      const demand = await this.d.powerKw(limit.meter);
      if (demand === null) continue;
      const shedNow = this.d.runner.shed();
      const loads: Load[] = limit.loads.map((l) => ({ id: l.circuit, priority: l.priority, kw: l.kw, sheddable: l.sheddable ?? true, on: !shedNow.has(l.circuit) }));
      if (demand > limit.limitKw) {
        const plan = planShedding(loads, demand, limit.limitKw);
        for (const c of plan.shed) this.d.runner.setShed(c, `shed: ${limit.building} ${plan.explanation}`);
        if (plan.shed.length) this.d.audit.record(SCHEDULES_ACTOR, 'demand.shed', limit.building, { demandKw: demand, limitKw: limit.limitKw, shed: plan.shed, explanation: plan.explanation }, now);
        out.push({ building: limit.building, shed: plan.shed, restore: [], explanation: plan.explanation });
        continue;
      }
      const shedLoads = loads.filter((l) => !l.on);
      if (!shedLoads.length) continue;
      const r = planRestore(shedLoads, demand, limit.limitKw, limit.marginKw);
      for (const c of r.restore) this.d.runner.setShed(c, null);
      const explanation = `demand ${demand} kW under the limit ${limit.limitKw} kW (margin ${limit.marginKw} kW): restoring ${r.restore.join(', ') || 'nothing yet'}, projected ${r.projectedKw} kW`;
      if (r.restore.length) this.d.audit.record(SCHEDULES_ACTOR, 'demand.restore', limit.building, { demandKw: demand, limitKw: limit.limitKw, restore: r.restore, explanation }, now);
      out.push({ building: limit.building, shed: [], restore: r.restore, explanation });
    }
    return out;
  }
}
