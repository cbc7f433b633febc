import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnergyImportResult } from '@warden/contract';
import { parseImportTime } from '../../src/energy/import.ts';
import { DAY, HOUR, localTime } from '../../src/energy/time.ts';
import { api, clockAt, login, testHub, type TestHub } from '../helpers.ts';

/**
 * POST /api/energy/import on a running hub whose clock reads a fixed date (clockAt), so the test passes on any date:
 * facilities import 60 days of register readings older than the rollup ever looked back, see them in consumption
 * and cost; a re-import changes nothing; a file with bad rows imports nothing and names every bad row.
 */
const OFF = 8;
const now = localTime('2026-06-01', 9, OFF);
const first = now - 60 * DAY;
let t: TestHub;
let fac: string;
let sec: string;

beforeAll(async () => {
  t = await testHub(
    {
      users: [
        { username: 'fac', roles: ['facilities'], password: 'facilities-password' },
        { username: 'sec', roles: ['security'], password: 'security-password' },
      ],
      energy: {
        nodes: [
          { id: 'campus', type: 'campus' },
          { id: 'lib', type: 'building', parent: 'campus', use: 'library' },
        ],
        meters: [
          { id: 'pm-a', node: 'lib', medium: 'power', tariff: 'grid' },
          { id: 'pm-b', node: 'lib', medium: 'power', tariff: 'grid' },
        ],
        tariffs: {
          grid: { kind: 'tou', medium: 'power', periods: [{ from: '2026-01-01', to: '2026-12-31', slots: [{ from: '00:00', to: '08:00', band: 'valley' }, { from: '08:00', to: '24:00', band: 'peak' }], prices: { peak: 1, flat: 0.6, valley: 0.5 } }] },
        },
      },
    },
    undefined,
    clockAt(now),
  );
  fac = await login(t.hub, 'fac', 'facilities-password');
  sec = await login(t.hub, 'sec', 'security-password');
});

afterAll(async () => {
  await t?.close();
});

const localText = (ts: number): string => new Date(ts + OFF * HOUR).toISOString().slice(0, 19); // campus-local, no offset

/** 60 days of hourly readings of both meters: pm-a 2 kWh an hour, pm-b 3; timestamps in three spellings. */
function csv(): string {
  const lines = ['meter,ts,kwh'];
  for (let ts = first, i = 0; ts <= first + 59 * DAY; ts += HOUR, i++) {
    lines.push(`pm-a,${localText(ts)},${1000 + 2 * i}`);
    lines.push(`pm-b,${i % 2 ? new Date(ts).toISOString() : localText(ts) + '+08:00'},${5000 + 3 * i}`);
  }
  return lines.join('\n') + '\n';
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const post = (token: string, body: unknown) => api<EnergyImportResult>(t.hub, token, '/api/energy/import', { method: 'POST', body });
const total = async (node: string) =>
  (await api<{ total: number; points: unknown[] }>(t.hub, fac, `/api/energy/consumption?node=${node}&from=${first - DAY}&to=${now}&step=1d`)).body;

describe('energy history import', () => {
  it('timestamps: with an offset that instant, without one campus-local time', () => {
    expect(parseImportTime('2026-03-01T08:15:00+08:00', 8)).toBe(Date.parse('2026-03-01T00:15:00Z'));
    expect(parseImportTime('2026-03-01 08:15', 8)).toBe(Date.parse('2026-03-01T00:15:00Z'));
    expect(parseImportTime('2026-03-01T00:15:00Z', 8)).toBe(Date.parse('2026-03-01T00:15:00Z'));
    expect(parseImportTime('2026-02-30T00:00', 8)).toBeNull();
    expect(parseImportTime('yesterday', 8)).toBeNull();
  });

  it('only facilities (and admin) import', async () => {
    expect((await post(sec, { format: 'csv', data: b64(csv()) })).status).toBe(403);
  });

  it('a dry run checks and counts; the import rolls 60 days up; a re-import changes nothing', async () => {
    const rows = 2 * (59 * 24 + 1);
    const dry = await post(fac, { format: 'csv', data: b64(csv()), dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ ok: true, dryRun: true, rows, imported: 0, unchanged: 0 });
    expect((await total('lib')).total).toBe(0);

    const done = await post(fac, { format: 'csv', data: b64(csv()) });
    expect(done.body).toMatchObject({ ok: true, dryRun: false, rows, imported: rows, unchanged: 0 });
    if (!done.body.ok) throw new Error('import refused');
    expect(done.body.meters).toEqual([
      { meter: 'pm-a', from: first, to: first + 59 * DAY, readings: rows / 2, new: rows / 2 },
      { meter: 'pm-b', from: first, to: first + 59 * DAY, readings: rows / 2, new: rows / 2 },
    ]);
    const hours = 59 * 24;
    expect((await total('pm-a')).total).toBe(2 * hours);
    expect((await total('pm-b')).total).toBe(3 * hours);
    const lib = await total('lib');
    expect(lib.total).toBe(5 * hours);
    const cost = (await api<{ total: number }>(t.hub, fac, `/api/energy/cost?node=lib&from=${first - DAY}&to=${now}`)).body;
    // 8 valley hours at 0.5, 16 peak at 1 a day (the first and last partial days included): every kWh priced.
    expect(cost.total).toBeGreaterThan(5 * hours * 0.5);

    const again = await post(fac, { format: 'csv', data: b64(csv()) });
    expect(again.body).toMatchObject({ ok: true, imported: 0, unchanged: rows });
    expect(await total('lib')).toEqual(lib);
    expect((await api<{ total: number }>(t.hub, fac, `/api/energy/cost?node=lib&from=${first - DAY}&to=${now}`)).body).toEqual(cost);
  }, 120_000);

  it('an XLSX with bad rows imports nothing and names every bad row', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('readings');
    const day = now - 10 * DAY + 30 * 60_000; // between stored hourly readings
    ws.addRow(['meter', 'ts', 'kwh']);
    ws.addRow(['pm-a', localText(day), 3401]); // 2: fine
    ws.addRow(['pm-x', localText(day), 10]); // 3: unknown meter
    ws.addRow(['pm-a', localText(day + HOUR), 'lots']); // 4: bad number
    ws.addRow(['pm-a', '2026-13-01 00:00', 10]); // 5: bad timestamp
    ws.addRow(['pm-a', localText(now + DAY), 95_000]); // 6: future
    ws.addRow(['pm-a', localText(day + 2 * HOUR), 3000]); // 7: register decreases
    ws.addRow(['pm-a', localText(day), 3401]); // 8: duplicate of row 2
    ws.addRow(['pm-b', new Date(day + 3 * HOUR + OFF * HOUR), 8610]); // 9: a date cell (campus wall time), fine
    const data = Buffer.from(await wb.xlsx.writeBuffer());
    const before = await total('lib');
    const r = await post(fac, { format: 'xlsx', data: b64(data) });
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(false);
    if (r.body.ok) return;
    expect(r.body.errors.map((e) => e.row)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(r.body.errors[0]!.reason).toContain('unknown meter "pm-x"');
    expect(r.body.errors[1]!.reason).toContain('bad register value');
    expect(r.body.errors[2]!.reason).toContain('bad timestamp');
    expect(r.body.errors[3]!.reason).toContain('in the future');
    expect(r.body.errors.find((e) => e.row === 7)!.reason).toContain('decreases');
    expect(r.body.errors.find((e) => e.row === 8)!.reason).toBe('duplicate of row 2');
    expect(await total('lib')).toEqual(before);
    // Not even the good rows were stored: a dry run of them finds both new.
    const good = ['meter,ts,kwh', `pm-a,${localText(day)},3401`, `pm-b,${localText(day + 3 * HOUR)},8610`].join('\n');
    expect((await post(fac, { format: 'csv', data: b64(good), dryRun: true })).body).toMatchObject({ ok: true, imported: 0, unchanged: 0, meters: [{ meter: 'pm-a', new: 1 }, { meter: 'pm-b', new: 1 }] });
  }, 60_000);

  it('a reading that differs from the one stored for the same meter and minute is refused, nothing imported', async () => {
    const lines = ['meter,ts,kwh', `pm-b,${localText(now - 2 * HOUR)},99999`, `pm-a,${localText(first)},1`];
    const r = await post(fac, { format: 'csv', data: b64(lines.join('\n')) });
    expect(r.body).toEqual({ ok: false, errors: [{ row: 3, reason: expect.stringContaining('pm-a already has the reading 1000') }] });
    expect((await total('pm-b')).total).toBe(3 * 59 * 24);
  });
});
