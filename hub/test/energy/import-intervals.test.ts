import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnergyImportResult } from '@warden/contract';
import { DAY, HOUR, localTime } from '../../src/energy/time.ts';
import { api, clockAt, login, testHub, type TestHub } from '../helpers.ts';

/**
 * Interval consumption import (meter, start, end, kwh|m3) on a running hub whose clock reads a fixed date: stored,
 * rolled up into consumption and node sums; a re-import changes nothing; bad rows are all named and nothing is
 * stored; interval consumption and register readings of one meter mix without counting anything twice.
 */
const OFF = 8;
const now = localTime('2026-06-01', 9 * 60, OFF);
const first = localTime('2026-04-01', 0, OFF);
let t: TestHub;
let fac: string;

beforeAll(async () => {
  t = await testHub(
    {
      users: [{ username: 'fac', roles: ['facilities'], password: 'facilities-password' }],
      energy: {
        nodes: [
          { id: 'campus', type: 'campus' },
          { id: 'lib', type: 'building', parent: 'campus', use: 'library' },
        ],
        meters: [
          { id: 'pm-a', node: 'lib', medium: 'power' },
          { id: 'pm-b', node: 'lib', medium: 'power' },
          { id: 'gm-lib', node: 'lib', medium: 'gas' },
        ],
      },
    },
    undefined,
    clockAt(now),
  );
  fac = await login(t.hub, 'fac', 'facilities-password');
});

afterAll(async () => {
  await t?.close();
});

const local = (ts: number): string => new Date(ts + OFF * HOUR).toISOString().slice(0, 16).replace('T', ' ');
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const post = (body: unknown) => api<EnergyImportResult>(t.hub, fac, '/api/energy/import', { method: 'POST', body });
const csvPost = (lines: string[], dryRun = false) => post({ format: 'csv', data: b64(lines.join('\n') + '\n'), dryRun });
const total = async (node: string, from = first - DAY, to = now, medium = '') =>
  (await api<{ total: number; points: Array<[number, number, string[]]> }>(t.hub, fac, `/api/energy/consumption?node=${node}&from=${from}&to=${to}&step=1d${medium}`)).body;

/** 20 days of hourly intervals of pm-a: 1 kWh an hour at night, 4 by day (local 08–18). */
function hourly(meter: string, from: number, days: number): string[] {
  const lines = ['meter,start,end,kwh'];
  for (let ts = from; ts < from + days * DAY; ts += HOUR) {
    const h = new Date(ts + OFF * HOUR).getUTCHours();
    lines.push(`${meter},${local(ts)},${local(ts + HOUR)},${h >= 8 && h < 18 ? 4 : 1}`);
  }
  return lines;
}
const perDay = 10 * 4 + 14 * 1;

describe('interval consumption import', () => {
  it('rolls 20 days of hourly intervals up; a dry run stores nothing; a re-import changes nothing', async () => {
    const dry = await csvPost(hourly('pm-a', first, 20), true);
    expect(dry.body).toMatchObject({ ok: true, kind: 'intervals', dryRun: true, rows: 480, imported: 0, unchanged: 0 });
    expect((await total('pm-a')).total).toBe(0);

    const done = await csvPost(hourly('pm-a', first, 20));
    expect(done.body).toMatchObject({ ok: true, kind: 'intervals', rows: 480, imported: 480, unchanged: 0, meters: [{ meter: 'pm-a', from: first, to: first + 20 * DAY, readings: 480, new: 480 }] });
    const a = await total('pm-a');
    expect(a.total).toBe(20 * perDay);
    expect(a.points.map((p) => p[1])).toEqual(new Array(20).fill(perDay));
    // The node sums follow: lib = pm-a + pm-b (+ gas is another medium).
    expect((await total('lib')).total).toBe(20 * perDay);

    const again = await csvPost(hourly('pm-a', first, 20));
    expect(again.body).toMatchObject({ ok: true, imported: 0, unchanged: 480 });
    expect(await total('pm-a')).toEqual(a);
    expect((await total('lib')).total).toBe(20 * perDay);
  }, 60_000);

  it('names every bad row and stores nothing', async () => {
    const s = first + 40 * DAY;
    const lines = [
      'meter,start,end,kwh',
      `pm-a,${local(s)},${local(s + HOUR)},3`, // 2: fine
      `pm-x,${local(s)},${local(s + HOUR)},3`, // 3: unknown meter
      `gm-lib,${local(s)},${local(s + HOUR)},3`, // 4: gas meter, kWh column
      `pm-a,${local(s + HOUR + 5 * 60_000)},${local(s + 2 * HOUR)},3`, // 5: not on a quarter hour
      `pm-a,${local(s + 3 * HOUR)},${local(s + 2 * HOUR)},3`, // 6: end before start
      `pm-a,${local(now - HOUR)},${local(now + HOUR)},3`, // 7: future
      `pm-a,${local(s + 4 * HOUR)},${local(s + 5 * HOUR)},-1`, // 8: negative
      `pm-a,${local(s + 30 * 60_000)},${local(s + 90 * 60_000)},3`, // 9: overlaps row 2
      `pm-a,${local(s)},${local(s + HOUR)},3`, // 10: duplicate of row 2
      `pm-a,${local(first + HOUR)},${local(first + 2 * HOUR)},9`, // 11: stored with another amount
      `pm-a,${local(first + 150 * 60_000)},${local(first + 210 * 60_000)},2`, // 12: overlaps a stored interval
    ];
    const r = await csvPost(lines);
    expect(r.status).toBe(200);
    if (r.body.ok) throw new Error('accepted');
    expect(r.body.errors.map((e) => e.row)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    const reason = (row: number) => r.body.ok ? '' : r.body.errors.find((e) => e.row === row)!.reason;
    expect(reason(3)).toContain('unknown meter "pm-x"');
    expect(reason(4)).toContain('gas meter measured in m³, not kWh');
    expect(reason(5)).toContain('not on a quarter hour');
    expect(reason(6)).toContain('is not after start');
    expect(reason(7)).toContain('in the future');
    expect(reason(8)).toContain('bad consumption');
    expect(reason(9)).toContain('overlaps row 2');
    expect(reason(10)).toBe('duplicate of row 2');
    // Against what is stored (checked once the file itself is clean).
    const stored = await csvPost([lines[0]!, lines[1]!, lines[10]!, lines[11]!]);
    if (stored.body.ok) throw new Error('accepted');
    expect(stored.body.errors.map((e) => e.row)).toEqual([3, 4]);
    expect(stored.body.errors[0]!.reason).toContain('a different amount is not overwritten');
    expect(stored.body.errors[1]!.reason).toContain('overlaps the stored interval');
    expect((await total('pm-a')).total).toBe(20 * perDay);
  });

  it('an XLSX of gas intervals in m³ with date cells', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('gas');
    ws.addRow(['meter', 'start', 'end', 'm3']);
    // Excel date cells hold campus-local wall time.
    for (let d = 0; d < 3; d++) ws.addRow(['gm-lib', new Date(first + d * DAY + OFF * HOUR), new Date(first + (d + 1) * DAY + OFF * HOUR), 24 + d]);
    const r = await post({ format: 'xlsx', data: b64(Buffer.from(await wb.xlsx.writeBuffer())) });
    expect(r.body).toMatchObject({ ok: true, kind: 'intervals', imported: 3 });
    const g = await total('gm-lib', first, first + 3 * DAY);
    expect(g.points.map((p) => p[1])).toEqual([24, 25, 26]);
  });

  it('mixes with register readings: intervals fill a register gap without counting it twice; overlaps refused', async () => {
    // pm-b registers every hour for days 0–9 and 20–29 (10 kWh an hour), nothing in between; the BMS export covers
    // days 10–19 with intervals of 5 kWh an hour.
    const regs = ['meter,ts,kwh'];
    for (let h = 0; h <= 30 * 24; h++) {
      if (h > 10 * 24 && h < 20 * 24) continue;
      regs.push(`pm-b,${local(first + h * HOUR)},${1000 + 10 * h}`);
    }
    expect((await csvPost(regs)).body).toMatchObject({ ok: true, kind: 'registers' });
    const registerOnly = (await total('pm-b', first, first + 30 * DAY)).total;
    expect(registerOnly).toBe(10 * 30 * 24); // the gap's difference counted once, at its end

    const ivs = hourly('pm-b', first + 10 * DAY, 10).map((l, i) => (i === 0 ? l : l.replace(/,\d+$/, ',5')));
    // An interval around a register reading is refused (that hour is measured already).
    const clash = await csvPost([...ivs, `pm-b,${local(first + 2 * DAY)},${local(first + 2 * DAY + 2 * HOUR)},7`]);
    expect(clash.body.ok).toBe(false);
    if (!clash.body.ok) expect(clash.body.errors).toEqual([{ row: ivs.length + 1, reason: expect.stringContaining('has a register reading at') }]);

    expect((await csvPost(ivs)).body).toMatchObject({ ok: true, imported: 240 });
    const mixed = await total('pm-b', first, first + 30 * DAY);
    // Same total: the register difference across the gap keeps only what the intervals do not explain...
    expect(mixed.total).toBeCloseTo(registerOnly, 6);
    // ...and the interval days now show their own use.
    expect(mixed.points.slice(11, 19).map((p) => p[1])).toEqual(new Array(8).fill(120));

    // A register reading inside an imported interval is refused.
    const inside = await csvPost(['meter,ts,kwh', `pm-b,${local(first + 15 * DAY + 30 * 60_000)},2500`]);
    expect(inside.body.ok).toBe(false);
    if (!inside.body.ok) expect(inside.body.errors[0]!.reason).toContain('imported interval consumption');
    // Re-importing both changes nothing.
    expect((await csvPost(regs)).body).toMatchObject({ ok: true, imported: 0 });
    expect((await csvPost(ivs)).body).toMatchObject({ ok: true, imported: 0, unchanged: 240 });
    expect(await total('pm-b', first, first + 30 * DAY)).toEqual(mixed);
  }, 60_000);
});
