import Type, { type Static } from 'typebox';
import { EnergyConfigSchema, hhmmToMinutes } from '../config.ts';

/** A schedule entry of the config without `id` and `circuits`: the same shape the config gives a plan. */
export const SchedulePlanSchema = Type.Omit(EnergyConfigSchema.properties.schedules.items, ['id', 'circuits'], {
  additionalProperties: false,
  description: 'a weekly plan in the shape of `energy.schedules[]` of the config, without id and circuits',
});
export type SchedulePlanBody = Static<typeof SchedulePlanSchema>;

type P = { from: string; to: string };

/** What the schema cannot say: each period starts before it ends, and a day's periods do not overlap. */
export function checkSchedulePlan(plan: SchedulePlanBody): string[] {
  const errors: string[] = [];
  const check = (path: string, periods: readonly P[] | undefined): void => {
    const sorted = [...(periods ?? [])].sort((a, b) => hhmmToMinutes(a.from) - hhmmToMinutes(b.from));
    (periods ?? []).forEach((p, k) => {
      if (hhmmToMinutes(p.from) >= hhmmToMinutes(p.to)) errors.push(`${path}/${k}: from ${p.from} must be before to ${p.to}`);
    });
    for (let k = 1; k < sorted.length; k++) {
      if (hhmmToMinutes(sorted[k]!.from) < hhmmToMinutes(sorted[k - 1]!.to)) errors.push(`${path}: ${sorted[k - 1]!.from}-${sorted[k - 1]!.to} overlaps ${sorted[k]!.from}-${sorted[k]!.to}`);
    }
  };
  for (const [name, plan2] of [['term', plan.term], ['vacation', plan.vacation ?? {}]] as const) {
    for (const [day, periods] of Object.entries(plan2 as Record<string, P[] | undefined>)) check(`/${name}/${day}`, periods);
  }
  check('/holiday', plan.holiday);
  (plan.exceptions ?? []).forEach((x, k) => check(`/exceptions/${k}/periods`, x.periods));
  return errors;
}
