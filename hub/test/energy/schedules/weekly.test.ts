import { describe, expect, it } from 'vitest';
import { changes, effectiveState, scheduledState, type WeeklySchedule } from '../../../src/energy/schedules/weekly.ts';
import { localTime } from '../../../src/energy/time.ts';

const OFF = 8;
const at = (date: string, hhmm: string) => localTime(date, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)), OFF);
const workday = [{ from: '07:00', to: '12:00' }, { from: '13:30', to: '22:00', level: 80 }];
const lighting: WeeklySchedule = {
  id: 'teach-a-lighting',
  circuits: ['relay-teach-a-1f'],
  term: { mon: workday, tue: workday, wed: workday, thu: workday, fri: workday, sat: [{ from: '08:00', to: '12:00' }] },
  vacation: { mon: [{ from: '09:00', to: '17:00', level: 50 }], tue: [{ from: '09:00', to: '17:00', level: 50 }] },
  exceptions: [
    { date: '2026-10-10', as: 'fri' }, // a Saturday worked as a Friday (调休)
    { date: '2026-12-24', periods: [{ from: '07:00', to: '24:00' }] }, // exam week late opening
  ],
};
const calendar = { holidays: ['2026-10-01', '2026-10-02'], vacations: [{ from: '2027-01-18', to: '2027-02-28' }] };

describe('weekly schedules tied to the term calendar', () => {
  it('term weekday periods, levels and the lunch break', () => {
    expect(scheduledState(lighting, at('2026-11-02', '08:00'), calendar, OFF)).toMatchObject({ on: true, level: 100, reason: 'mon (term plan) 07:00-12:00' });
    expect(scheduledState(lighting, at('2026-11-02', '12:30'), calendar, OFF)).toMatchObject({ on: false });
    expect(scheduledState(lighting, at('2026-11-02', '21:59'), calendar, OFF)).toMatchObject({ on: true, level: 80 });
    expect(scheduledState(lighting, at('2026-11-02', '22:00'), calendar, OFF).on).toBe(false);
    expect(scheduledState(lighting, at('2026-11-08', '10:00'), calendar, OFF)).toMatchObject({ on: false, reason: 'sun (term plan): outside its periods' });
  });

  it('a public holiday on a weekday runs the Sunday plan', () => {
    expect(scheduledState(lighting, at('2026-10-01', '10:00'), calendar, OFF)).toMatchObject({ on: false, reason: 'holiday 2026-10-01: sun (term plan): outside its periods' });
  });

  it('a make-up working day runs a weekend date as a weekday; a dated exception replaces the day', () => {
    expect(scheduledState(lighting, at('2026-10-10', '20:00'), calendar, OFF)).toMatchObject({ on: true, level: 80, reason: 'exception 2026-10-10: runs as fri (term plan) 13:30-22:00' });
    expect(scheduledState(lighting, at('2026-12-24', '23:30'), calendar, OFF)).toMatchObject({ on: true, reason: 'exception 2026-12-24 07:00-24:00' });
  });

  it('vacation uses the vacation plan', () => {
    expect(scheduledState(lighting, at('2027-01-18', '08:00'), calendar, OFF).on).toBe(false);
    expect(scheduledState(lighting, at('2027-01-18', '10:00'), calendar, OFF)).toMatchObject({ on: true, level: 50, reason: 'mon (vacation plan) 09:00-17:00' });
    expect(scheduledState(lighting, at('2027-01-20', '10:00'), calendar, OFF).on).toBe(false); // no Wednesday in the vacation plan
  });

  it('a manual override wins until it expires, then the schedule resumes', () => {
    const o = [{ circuit: 'relay-teach-a-1f', on: false, until: at('2026-11-02', '09:00'), by: 'facilities-wang' }];
    expect(effectiveState(lighting, 'relay-teach-a-1f', o, at('2026-11-02', '08:30'), calendar, OFF)).toMatchObject({ on: false, reason: expect.stringMatching(/^override by facilities-wang until /) });
    expect(effectiveState(lighting, 'relay-teach-a-1f', o, at('2026-11-02', '09:00'), calendar, OFF)).toMatchObject({ on: true, reason: 'mon (term plan) 07:00-12:00' });
    expect(effectiveState(lighting, 'other', o, at('2026-11-02', '08:30'), calendar, OFF).on).toBe(true);
  });

  it('lists the changes of a day for the command sender', () => {
    const c = changes(lighting, at('2026-11-02', '00:00'), at('2026-11-03', '00:00'), calendar, OFF);
    expect(c.map((x) => [new Date(x.at + OFF * 3_600_000).toISOString().slice(11, 16), x.on, x.level])).toEqual([
      ['07:00', true, 100],
      ['12:00', false, 0],
      ['13:30', true, 80],
      ['22:00', false, 0],
    ]);
  });
});
