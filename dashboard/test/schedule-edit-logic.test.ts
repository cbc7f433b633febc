import { describe, expect, it } from 'vitest';
import { auditDetailText, auditPath, scheduleEditChanges } from '../src/lib/audit.ts';
import { editedPlan, parsePeriods, weekText } from '../src/lib/schedule-edit.ts';
import { periodsText } from '../src/lib/energy.ts';

describe('schedule editor text', () => {
  it('reads period lists in the table notation, with dimmer levels, either dash and Chinese commas', () => {
    expect(parsePeriods('07:00-12:00, 13:00–22:00 80%')).toEqual({ ok: true, periods: [{ from: '07:00', to: '12:00' }, { from: '13:00', to: '22:00', level: 80 }] });
    expect(parsePeriods('18:00-24:00，06:00-08:00 100%')).toEqual({ ok: true, periods: [{ from: '06:00', to: '08:00' }, { from: '18:00', to: '24:00' }] });
    expect(parsePeriods('')).toEqual({ ok: true, periods: [] });
    expect(parsePeriods('–')).toEqual({ ok: true, periods: [] });
  });

  it('refuses what the hub would refuse, naming the part', () => {
    expect(parsePeriods('7:00-12:00')).toEqual({ ok: false, error: '7:00-12:00' });
    expect(parsePeriods('22:00-07:00')).toEqual({ ok: false, error: '22:00-07:00' });
    expect(parsePeriods('08:00-10:00 120%')).toMatchObject({ ok: false });
    expect(parsePeriods('08:00-12:00, 11:00-13:00')).toMatchObject({ ok: false });
    expect(parsePeriods('all day')).toMatchObject({ ok: false });
  });

  it('round-trips the plan table text', () => {
    const periods = [{ from: '07:00', to: '12:00' }, { from: '13:00', to: '22:00', level: 60 }];
    expect(parsePeriods(periodsText(periods))).toEqual({ ok: true, periods });
    expect(weekText({ mon: periods }).mon).toBe(periodsText(periods));
    expect(weekText({ mon: periods }).sun).toBe('');
  });

  it('builds the plan to send, keeping holiday and exceptions, or names the days that do not parse', () => {
    const s = { id: 'light-a', circuits: ['relay-a'], term: { mon: [{ from: '07:00', to: '22:00' }] }, holiday: [{ from: '08:00', to: '12:00' }], exceptions: [{ date: '2026-10-10', as: 'fri' as const }] };
    const term = { ...weekText(s.term), tue: '06:00-20:00 50%' };
    expect(editedPlan(s, term, null)).toEqual({
      ok: true,
      plan: { term: { mon: [{ from: '07:00', to: '22:00' }], tue: [{ from: '06:00', to: '20:00', level: 50 }] }, holiday: s.holiday, exceptions: s.exceptions },
    });
    expect(editedPlan(s, { ...term, wed: 'x' }, weekText({}))).toEqual({ ok: false, bad: ['term.wed'] });
  });
});

describe('audit page logic', () => {
  it('asks the hub for the filter as action prefixes', () => {
    expect(auditPath('all')).toBe('/api/audit?limit=200');
    expect(auditPath('energy', 50)).toBe('/api/audit?limit=50&action=schedule.%2Cdemand.');
    expect(auditPath('scheduleEdits')).toBe('/api/audit?limit=200&action=schedule.edit');
  });

  it('reads a schedule edit as the days it changed', () => {
    const detail = { before: { term: { mon: [{ from: '07:00', to: '22:00' }], tue: [{ from: '07:00', to: '22:00' }] } }, after: { term: { mon: [{ from: '07:00', to: '20:00', level: 50 }], tue: [{ from: '07:00', to: '22:00' }] } } };
    expect(scheduleEditChanges(detail)).toEqual(['term mon: 07:00–22:00 → 07:00–20:00 50%']);
    expect(auditDetailText({ id: 1, ts: 0, actor: 'fac', action: 'schedule.edit', target: 'light-a', detail })).toBe('term mon: 07:00–22:00 → 07:00–20:00 50%');
    expect(auditDetailText({ id: 2, ts: 0, actor: 'fac', action: 'schedule.override', target: 'relay-a', detail: { on: false, until: 5 } })).toBe('on=false until=5');
  });
});
