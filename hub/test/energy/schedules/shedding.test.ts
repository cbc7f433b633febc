import { describe, expect, it } from 'vitest';
import { planRestore, planShedding, type Load } from '../../../src/energy/schedules/shedding.ts';

const loads: Load[] = [
  { id: 'hvac-corridor', priority: 1, kw: 12, on: true, sheddable: true },
  { id: 'lighting-atrium', priority: 1, kw: 20, on: true, sheddable: true },
  { id: 'hvac-classrooms', priority: 5, kw: 40, on: true, sheddable: true },
  { id: 'fountain-pump', priority: 0, kw: 5, on: false, sheddable: true },
  { id: 'server-room', priority: 0, kw: 30, on: true, sheddable: false },
];

describe('demand-limit shedding', () => {
  it('sheds the lowest priority first, the larger of equal priority first, and stops once under the limit', () => {
    const p = planShedding(loads, 230, 205);
    expect(p.shed).toEqual(['lighting-atrium', 'hvac-corridor']);
    expect(p.projectedKw).toBe(198);
    expect(p.satisfied).toBe(true);
    expect(p.explanation).toBe('demand 230 kW over the limit 205 kW: shedding lighting-atrium, hvac-corridor brings it to 198 kW');
  });

  it('goes up the priorities only as far as needed; never sheds what is off or not sheddable', () => {
    expect(planShedding(loads, 230, 190).shed).toEqual(['lighting-atrium', 'hvac-corridor', 'hvac-classrooms']);
    const p = planShedding(loads, 230, 100);
    expect(p.shed).not.toContain('server-room');
    expect(p.shed).not.toContain('fountain-pump');
    expect(p.satisfied).toBe(false);
    expect(p.explanation).toMatch(/still over: no more sheddable loads/);
  });

  it('does nothing within the limit', () => {
    expect(planShedding(loads, 150, 205)).toMatchObject({ shed: [], satisfied: true });
  });

  it('restores the most important first, each only with room plus a margin', () => {
    const shed = loads.filter((l) => ['lighting-atrium', 'hvac-corridor', 'hvac-classrooms'].includes(l.id));
    expect(planRestore(shed, 150, 205, 5)).toEqual({ restore: ['hvac-classrooms'], projectedKw: 190 });
    expect(planRestore(shed, 120, 205, 5)).toEqual({ restore: ['hvac-classrooms', 'hvac-corridor', 'lighting-atrium'], projectedKw: 192 });
  });
});
