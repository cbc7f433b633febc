import type { EnergyImportResult, EnergyImportRowError } from '@warden/contract';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type { TelemetryRow, TelemetryStore } from '../store/telemetry.ts';
import type { EnergyConfig } from './config.ts';
import { UNITS } from './hierarchy.ts';
import { DAY, HOUR, bucketStart } from './time.ts';

/**
 * History import of meter readings (CSV or XLSX), checked row by row before anything is stored. Two shapes, told
 * apart by the header:
 * - register readings: `meter, ts, kwh` (or `m3` / `value`), one cumulative register reading a row;
 * - interval consumption: `meter, start, end, kwh` (or `m3` / `value` / `amount`), what the meter used in
 *   [start, end) a row (a BMS or utility export). Start and end lie on quarter hours, an interval is at most
 *   31 days, intervals of a meter do not overlap each other nor a stored one (the same interval with the same
 *   amount is unchanged), nor hold a stored register reading strictly inside (that stretch is measured already).
 *   The amount is spread evenly over the interval's quarter hours. A register difference that spans imported
 *   intervals (a gateway cut off while the BMS export covers the gap) counts only what the intervals do not explain.
 * The column `kwh` is for electricity meters and `m3` for water and gas: a unit that is not the meter's is a bad row. `ts` is ISO 8601; with an offset
 * (`Z`, `+08:00`) it is that instant, without one it is campus-local time (`energy.utcOffsetHours`,
 * Asia/Shanghai +8 by default); an XLSX date cell is campus-local wall time. Readings are keyed by
 * meter + ts (minute): a reading already stored with the same value is unchanged (a re-import changes
 * nothing); with another value it is an error (corrections are not silently overwritten).
 */
export const MAX_IMPORT_ROWS = 1_000_000;

export interface ImportReading {
  row: number;
  meter: string;
  ts: number;
  value: number;
}

type Table = ReadonlyArray<{ row: number; cells: string[] }>;
type Checked = { ok: true; readings: ImportReading[] } | { ok: false; errors: EnergyImportRowError[] };

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** ms epoch of an ISO timestamp (campus-local when it has no offset), or null. */
export function parseImportTime(text: string, utcOffsetHours: number): number | null {
  const m = ISO.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, ms, zone] = m;
  const wall = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +(s ?? 0), +(ms ?? '0').padEnd(3, '0'));
  const back = new Date(wall);
  if (back.getUTCFullYear() !== +y! || back.getUTCMonth() !== +mo! - 1 || back.getUTCDate() !== +d! || +h! > 23 || +mi! > 59 || +(s ?? 0) > 59) return null;
  if (zone === undefined) return wall - utcOffsetHours * HOUR;
  if (zone === 'Z') return wall;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return wall - sign * (Number(digits.slice(0, 2)) * HOUR + Number(digits.slice(2)) * 60_000);
}

const COLUMNS = { meter: ['meter', 'device', 'meter_id'], ts: ['ts', 'time', 'timestamp'], value: ['kwh', 'm3', 'value', 'reading', 'register'] } as const;
const INTERVAL_COLUMNS = { meter: ['meter', 'device', 'meter_id'], start: ['start', 'from', 'start_time'], end: ['end', 'to', 'end_time'], amount: ['kwh', 'm3', 'value', 'amount', 'consumption'] } as const;
/** Longest imported interval. */
export const MAX_INTERVAL_MS = 31 * DAY;

export interface ImportInterval {
  row: number;
  meter: string;
  start: number;
  end: number;
  amount: number;
}

/** The header names a unit (kwh, m3) that is not this meter's: the reason, else null. */
function unitMismatch(column: string, medium: 'power' | 'water' | 'gas', meter: string): string | null {
  const c = column.trim().toLowerCase();
  if (c === 'kwh' && medium !== 'power') return `${meter} is a ${medium} meter measured in m³, not kWh (column kwh)`;
  if (c === 'm3' && medium === 'power') return `${meter} is an electricity meter measured in kWh, not m³ (column m3)`;
  return null;
}

/** True when the header has the interval columns start and end. */
export function isIntervalHeader(cells: readonly string[]): boolean {
  const names = cells.map((c) => c.trim().toLowerCase());
  return INTERVAL_COLUMNS.start.some((n) => names.includes(n)) && INTERVAL_COLUMNS.end.some((n) => names.includes(n));
}

function headerIndex<K extends string>(header: { row: number; cells: string[] }, columns: Record<K, readonly string[]>, errors: EnergyImportRowError[]): Partial<Record<K, number>> {
  const index: Partial<Record<K, number>> = {};
  header.cells.forEach((h, i) => {
    const name = h.trim().toLowerCase();
    for (const [col, names] of Object.entries(columns) as Array<[K, readonly string[]]>) {
      if (!names.includes(name)) continue;
      if (index[col] !== undefined) errors.push({ row: header.row, reason: `column ${col} appears twice` });
      else index[col] = i;
    }
  });
  for (const col of Object.keys(columns) as K[]) if (index[col] === undefined) errors.push({ row: header.row, reason: `missing column ${col} (one of: ${columns[col].join(', ')})` });
  return index;
}

/** Checks interval rows (first: header): every bad row named with its reason; overlaps within the file too. */
export function checkIntervals(table: Table, cfg: EnergyConfig, now: number): { ok: true; intervals: ImportInterval[] } | { ok: false; errors: EnergyImportRowError[] } {
  const errors: EnergyImportRowError[] = [];
  const header = table[0];
  if (!header) return { ok: false, errors: [{ row: 1, reason: 'the file is empty' }] };
  const index = headerIndex(header, INTERVAL_COLUMNS, errors);
  if (errors.length) return { ok: false, errors };
  if (table.length - 1 > MAX_IMPORT_ROWS) return { ok: false, errors: [{ row: header.row, reason: `more than ${MAX_IMPORT_ROWS} rows` }] };
  const amountColumn = header.cells[index.amount!]!;
  const meters = new Map(cfg.meters.map((m) => [m.id, m]));
  const off = cfg.utcOffsetHours;
  const intervals: ImportInterval[] = [];
  for (const line of table.slice(1)) {
    if (line.cells.every((c) => c.trim() === '')) continue;
    const get = (c: keyof typeof INTERVAL_COLUMNS): string => (line.cells[index[c]!] ?? '').trim();
    const bad = (reason: string): void => void errors.push({ row: line.row, reason });
    const before = errors.length;
    const meter = get('meter');
    const m = meters.get(meter);
    if (!m) bad(meter === '' ? 'meter is empty' : `unknown meter ${JSON.stringify(meter.slice(0, 128))}`);
    else {
      const unit = unitMismatch(amountColumn, m.medium, meter);
      if (unit) bad(unit);
    }
    const times: Record<'start' | 'end', number | null> = { start: null, end: null };
    for (const c of ['start', 'end'] as const) {
      const text = get(c);
      const ts = parseImportTime(text, off);
      if (ts === null) bad(`bad ${c} ${JSON.stringify(text.slice(0, 64))} (ISO 8601, e.g. 2026-03-01T08:15:00+08:00; without an offset campus-local time)`);
      else if (bucketStart(ts, '15m', off) !== ts) bad(`${c} ${text} is not on a quarter hour`);
      else times[c] = ts;
    }
    const { start, end } = times;
    if (start !== null && end !== null) {
      if (end <= start) bad(`end ${get('end')} is not after start ${get('start')}`);
      else if (end - start > MAX_INTERVAL_MS) bad(`interval longer than ${MAX_INTERVAL_MS / DAY} days`);
      if (end > now) bad(`end ${get('end')} is in the future`);
    }
    const amountText = get('amount');
    const amount = amountText === '' ? NaN : Number(amountText);
    if (!Number.isFinite(amount) || amount < 0) bad(`bad consumption ${JSON.stringify(amountText.slice(0, 64))} (a number ≥ 0)`);
    if (errors.length === before) intervals.push({ row: line.row, meter, start: start!, end: end!, amount });
  }
  // Intervals of one meter must not overlap: the same one twice is a duplicate, a partial overlap an error.
  const byMeter = new Map<string, ImportInterval[]>();
  for (const iv of intervals) byMeter.set(iv.meter, [...(byMeter.get(iv.meter) ?? []), iv]);
  for (const list of byMeter.values()) {
    list.sort((a, b) => a.start - b.start || a.row - b.row);
    let last: ImportInterval | undefined;
    for (const iv of list) {
      if (last && iv.start < last.end) {
        const same = iv.start === last.start && iv.end === last.end;
        errors.push({ row: iv.row, reason: same && iv.amount === last.amount ? `duplicate of row ${last.row}` : `overlaps row ${last.row} of the same meter (${iso(last.start)}–${iso(last.end)})` });
        continue;
      }
      last = iv;
    }
  }
  if (errors.length) return { ok: false, errors: errors.sort((x, y) => x.row - y.row) };
  return { ok: true, intervals };
}

const iso = (ts: number): string => new Date(ts).toISOString();

/** Checks the rows (first: header) against the configured meters; every bad row is named, with its reason. */
export function checkReadings(table: Table, cfg: EnergyConfig, now: number): Checked {
  const errors: EnergyImportRowError[] = [];
  const header = table[0];
  if (!header) return { ok: false, errors: [{ row: 1, reason: 'the file is empty' }] };
  const index = headerIndex(header, COLUMNS, errors);
  if (errors.length) return { ok: false, errors };
  const valueColumn = header.cells[index.value!]!;
  if (table.length - 1 > MAX_IMPORT_ROWS) return { ok: false, errors: [{ row: header.row, reason: `more than ${MAX_IMPORT_ROWS} rows` }] };

  const meters = new Map(cfg.meters.map((m) => [m.id, m]));
  const readings: ImportReading[] = [];
  const seen = new Map<string, ImportReading>();
  for (const line of table.slice(1)) {
    if (line.cells.every((c) => c.trim() === '')) continue;
    const get = (c: keyof typeof COLUMNS): string => (line.cells[index[c]!] ?? '').trim();
    const bad = (reason: string): void => void errors.push({ row: line.row, reason });
    const meter = get('meter');
    const tsText = get('ts');
    const valueText = get('value');
    let ok = true;
    const known = meters.get(meter);
    if (!known) {
      bad(meter === '' ? 'meter is empty' : `unknown meter ${JSON.stringify(meter.slice(0, 128))}`);
      ok = false;
    } else {
      const unit = unitMismatch(valueColumn, known.medium, meter);
      if (unit) {
        bad(unit);
        ok = false;
      }
    }
    const ts = parseImportTime(tsText, cfg.utcOffsetHours);
    if (ts === null) {
      bad(`bad timestamp ${JSON.stringify(tsText.slice(0, 64))} (ISO 8601, e.g. 2026-03-01T08:15:00+08:00; without an offset campus-local time)`);
      ok = false;
    } else if (ts > now) {
      bad(`timestamp ${tsText} is in the future`);
      ok = false;
    }
    const value = valueText === '' ? NaN : Number(valueText);
    if (!Number.isFinite(value) || value < 0) {
      bad(`bad register value ${JSON.stringify(valueText.slice(0, 64))} (a number ≥ 0)`);
      ok = false;
    }
    if (!ok) continue;
    const key = `${meter}\u0000${Math.floor(ts! / 60_000)}`;
    const earlier = seen.get(key);
    if (earlier) {
      bad(earlier.value === value ? `duplicate of row ${earlier.row}` : `same meter and minute as row ${earlier.row} with another value (${earlier.value})`);
      continue;
    }
    const r = { row: line.row, meter, ts: ts!, value };
    seen.set(key, r);
    readings.push(r);
  }
  // A register only grows, unless the meter rolled over or was replaced in between (configured).
  const byMeter = new Map<string, ImportReading[]>();
  for (const r of readings) byMeter.set(r.meter, [...(byMeter.get(r.meter) ?? []), r]);
  for (const [id, list] of byMeter) {
    const m = meters.get(id)!;
    const swaps = cfg.replacements.filter((x) => x.meter === id).map((x) => Date.parse(x.at));
    list.sort((a, b) => a.ts - b.ts);
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1]!;
      const b = list[i]!;
      if (b.value >= a.value) continue;
      if (swaps.some((at) => at > a.ts && at <= b.ts)) continue;
      if (m.rolloverAt !== undefined && a.value > m.rolloverAt / 2 && b.value < m.rolloverAt / 2) continue;
      errors.push({ row: b.row, reason: `register of ${id} decreases from ${a.value} (row ${a.row}) to ${b.value} with no rollover or configured replacement in between` });
    }
  }
  if (errors.length) return { ok: false, errors: errors.sort((x, y) => x.row - y.row) };
  return { ok: true, readings };
}

export function readCsv(data: Buffer): Table | EnergyImportRowError {
  let records: string[][];
  try {
    records = parseCsv(data, { bom: true, relax_column_count: true, skip_empty_lines: false, trim: false }) as string[][];
  } catch (err) {
    return { row: 0, reason: `not a readable CSV file: ${(err as Error).message}` };
  }
  return records.map((cells, i) => ({ row: i + 1, cells }));
}

export async function readXlsx(data: Buffer, utcOffsetHours: number): Promise<Table | EnergyImportRowError> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(data as unknown as ArrayBuffer);
  } catch (err) {
    return { row: 0, reason: `not a readable XLSX file: ${(err as Error).message}` };
  }
  const ws = wb.worksheets[0];
  if (!ws) return { row: 0, reason: 'the workbook has no worksheet' };
  if (ws.rowCount > MAX_IMPORT_ROWS + 1) return { row: 1, reason: `more than ${MAX_IMPORT_ROWS} rows` };
  const table: Array<{ row: number; cells: string[] }> = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: string[] = [];
    for (let c = 1; c <= row.cellCount; c++) cells.push(cellText(row.getCell(c).value, utcOffsetHours));
    table.push({ row: rowNumber, cells });
  });
  return table;
}

function cellText(v: ExcelJS.CellValue, utcOffsetHours: number): string {
  if (v === null || v === undefined) return '';
  // Excel dates have no zone: exceljs reads the wall time as UTC; it is campus-local wall time.
  if (v instanceof Date) return new Date(v.getTime()).toISOString().slice(0, 23) + offsetText(utcOffsetHours);
  if (typeof v === 'object') {
    if ('result' in v) return cellText(v.result as ExcelJS.CellValue, utcOffsetHours);
    if ('text' in v) return String(v.text);
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
  }
  return String(v);
}

function offsetText(h: number): string {
  const sign = h < 0 ? '-' : '+';
  const m = Math.round(Math.abs(h) * 60);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export interface ImportDeps {
  config: EnergyConfig;
  telemetry: TelemetryStore;
  markDirty: (meter: string, ts: number) => Promise<void>;
  /** Stored imported intervals of a meter overlapping [from, to). */
  intervals: (meter: string, from: number, to: number) => Promise<Array<{ start: number; end: number; amount: number }>>;
  addIntervals: (rows: ReadonlyArray<{ meter: string; start: number; end: number; amount: number }>) => Promise<void>;
  now: number;
}

/** First index of a sorted list whose element satisfies a predicate that is false then true along it. */
function firstIndex<T>(list: readonly T[], ok: (x: T) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ok(list[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

type Summary = Extract<EnergyImportResult, { ok: true }>['meters'];
const same = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

function groupBy<T extends { meter: string }>(list: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of list) {
    const l = out.get(x.meter);
    if (l) l.push(x);
    else out.set(x.meter, [x]);
  }
  return out;
}

/**
 * Checks the file and, unless a dry run, stores what is not already stored and marks each meter dirty from its
 * earliest new row; the caller rolls up. Register readings go to telemetry (the register metric of the meter's
 * medium), intervals to the energy store. Nothing is stored when any row is bad.
 */
export async function importReadings(file: { format: 'csv' | 'xlsx'; data: Buffer; dryRun: boolean }, deps: ImportDeps): Promise<EnergyImportResult> {
  const { config } = deps;
  const table = file.format === 'xlsx' ? await readXlsx(file.data, config.utcOffsetHours) : readCsv(file.data);
  if (!Array.isArray(table)) return { ok: false, errors: [table as EnergyImportRowError] };
  if (table[0] && isIntervalHeader(table[0].cells)) return importIntervals(file, table, deps);
  return importRegisters(file, table, deps);
}

async function importRegisters(file: { dryRun: boolean }, table: Table, deps: ImportDeps): Promise<EnergyImportResult> {
  const { config, telemetry, now } = deps;
  const checked = checkReadings(table, config, now);
  if (!checked.ok) return checked;
  const byMeter = groupBy(checked.readings);
  const errors: EnergyImportRowError[] = [];
  const fresh: Array<{ meter: string; metric: string; list: ImportReading[] }> = [];
  const summary: Summary = [];
  let unchanged = 0;
  for (const [meter, list] of byMeter) {
    const metric = UNITS[config.meters.find((m) => m.id === meter)!.medium].register;
    const from = list[0]!.ts;
    const to = list[list.length - 1]!.ts;
    const stored = new Map(await telemetry.query({ device: meter, metric, from: Math.floor(from / 60_000) * 60_000, to: to + 1, stepMs: 60_000, agg: 'last' }));
    const ivs = await deps.intervals(meter, from, to + 1);
    const news: ImportReading[] = [];
    for (const r of list) {
      const have = stored.get(Math.floor(r.ts / 60_000) * 60_000);
      const inside = ivs.find((iv) => iv.start < r.ts && r.ts < iv.end);
      if (have !== undefined && same(have, r.value)) unchanged += 1;
      else if (have !== undefined) errors.push({ row: r.row, reason: `${meter} already has the reading ${have} at ${iso(r.ts)}; a different value is not overwritten` });
      else if (inside) errors.push({ row: r.row, reason: `${meter} has imported interval consumption ${iso(inside.start)}–${iso(inside.end)} around this reading; that stretch is accounted for already` });
      else news.push(r);
    }
    fresh.push({ meter, metric, list: news });
    summary.push({ meter, from, to, readings: list.length, new: news.length });
  }
  if (errors.length) return { ok: false, errors: errors.sort((x, y) => x.row - y.row) };
  let imported = 0;
  if (!file.dryRun) {
    for (const { meter, metric, list } of fresh) {
      if (list.length === 0) continue;
      const rows: TelemetryRow[] = list.map((r) => ({ ts: r.ts, device: meter, metric, value: r.value }));
      for (let i = 0; i < rows.length; i += 50_000) await telemetry.append(rows.slice(i, i + 50_000));
      await deps.markDirty(meter, list[0]!.ts);
      imported += list.length;
    }
  }
  return { ok: true, kind: 'registers', dryRun: file.dryRun, rows: checked.readings.length, imported, unchanged, meters: summary.sort((a, b) => a.meter.localeCompare(b.meter)) };
}

async function importIntervals(file: { dryRun: boolean }, table: Table, deps: ImportDeps): Promise<EnergyImportResult> {
  const { config, telemetry, now } = deps;
  const checked = checkIntervals(table, config, now);
  if (!checked.ok) return checked;
  const errors: EnergyImportRowError[] = [];
  const fresh: ImportInterval[] = [];
  const summary: Summary = [];
  let unchanged = 0;
  for (const [meter, list] of groupBy(checked.intervals)) {
    list.sort((a, b) => a.start - b.start);
    const metric = UNITS[config.meters.find((m) => m.id === meter)!.medium].register;
    const from = list[0]!.start;
    const to = list[list.length - 1]!.end;
    const stored = await deps.intervals(meter, from, to);
    // Register readings strictly inside an interval: that stretch is measured already.
    const registers = (await telemetry.query({ device: meter, metric, from: from + 1, to, stepMs: 60_000, agg: 'last' })).map(([ts]) => ts);
    let news = 0;
    for (const iv of list) {
      // Stored intervals do not overlap each other: sorted by start, their ends are sorted too.
      const overlap: typeof stored = [];
      for (let k = firstIndex(stored, (x) => x.end > iv.start); k < stored.length && stored[k]!.start < iv.end; k++) overlap.push(stored[k]!);
      if (overlap.length === 1 && overlap[0]!.start === iv.start && overlap[0]!.end === iv.end && same(overlap[0]!.amount, iv.amount)) {
        unchanged += 1;
        continue;
      }
      if (overlap.length) {
        const o = overlap[0]!;
        errors.push({
          row: iv.row,
          reason:
            o.start === iv.start && o.end === iv.end
              ? `${meter} already has ${o.amount} for ${iso(o.start)}–${iso(o.end)}; a different amount is not overwritten`
              : `overlaps the stored interval ${iso(o.start)}–${iso(o.end)} of ${meter}`,
        });
        continue;
      }
      const reading = registers[firstIndex(registers, (ts) => ts > iv.start)];
      if (reading !== undefined && reading < iv.end) {
        errors.push({ row: iv.row, reason: `${meter} has a register reading at ${iso(reading)} inside this interval; that stretch is measured already` });
        continue;
      }
      fresh.push(iv);
      news += 1;
    }
    summary.push({ meter, from, to, readings: list.length, new: news });
  }
  if (errors.length) return { ok: false, errors: errors.sort((x, y) => x.row - y.row) };
  if (!file.dryRun && fresh.length) {
    await deps.addIntervals(fresh);
    for (const [meter, list] of groupBy(fresh)) await deps.markDirty(meter, Math.min(...list.map((x) => x.start)));
  }
  return {
    ok: true,
    kind: 'intervals',
    dryRun: file.dryRun,
    rows: checked.intervals.length,
    imported: file.dryRun ? 0 : fresh.length,
    unchanged,
    meters: summary.sort((a, b) => a.meter.localeCompare(b.meter)),
  };
}
