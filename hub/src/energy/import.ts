import type { EnergyImportResult, EnergyImportRowError } from '@warden/contract';
import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type { TelemetryRow, TelemetryStore } from '../store/telemetry.ts';
import type { EnergyConfig } from './config.ts';
import { UNITS } from './hierarchy.ts';
import { HOUR } from './time.ts';

/**
 * History import of meter register readings (CSV or XLSX), checked row by row before anything is stored:
 * header `meter, ts, kwh` (or `m3` / `value`), one reading a row. `ts` is ISO 8601; with an offset
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

/** Checks the rows (first: header) against the configured meters; every bad row is named, with its reason. */
export function checkReadings(table: Table, cfg: EnergyConfig, now: number): Checked {
  const errors: EnergyImportRowError[] = [];
  const header = table[0];
  if (!header) return { ok: false, errors: [{ row: 1, reason: 'the file is empty' }] };
  const index: Partial<Record<keyof typeof COLUMNS, number>> = {};
  header.cells.forEach((h, i) => {
    const name = h.trim().toLowerCase();
    for (const [col, names] of Object.entries(COLUMNS) as Array<[keyof typeof COLUMNS, readonly string[]]>) {
      if (!names.includes(name)) continue;
      if (index[col] !== undefined) errors.push({ row: header.row, reason: `column ${col} appears twice` });
      else index[col] = i;
    }
  });
  if (header.cells.some((h) => ['start', 'end'].includes(h.trim().toLowerCase())))
    errors.push({ row: header.row, reason: 'interval consumption (meter, start, end, kwh) is not supported yet; import register readings (meter, ts, kwh)' });
  for (const col of Object.keys(COLUMNS) as Array<keyof typeof COLUMNS>)
    if (index[col] === undefined) errors.push({ row: header.row, reason: `missing column ${col} (one of: ${COLUMNS[col].join(', ')})` });
  if (errors.length) return { ok: false, errors };
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
    if (!meters.has(meter)) {
      bad(meter === '' ? 'meter is empty' : `unknown meter ${JSON.stringify(meter.slice(0, 128))}`);
      ok = false;
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

/**
 * Checks the file and, unless a dry run, stores the readings not already stored (telemetry, the register metric
 * of each meter's medium) and marks each meter dirty from its earliest new reading; the caller rolls up.
 * Nothing is stored when any row is bad.
 */
export async function importReadings(
  file: { format: 'csv' | 'xlsx'; data: Buffer; dryRun: boolean },
  deps: { config: EnergyConfig; telemetry: TelemetryStore; markDirty: (meter: string, ts: number) => Promise<void>; now: number },
): Promise<EnergyImportResult> {
  const { config, telemetry, now } = deps;
  const table = file.format === 'xlsx' ? await readXlsx(file.data, config.utcOffsetHours) : readCsv(file.data);
  if (!Array.isArray(table)) return { ok: false, errors: [table as EnergyImportRowError] };
  const checked = checkReadings(table, config, now);
  if (!checked.ok) return checked;
  const byMeter = new Map<string, ImportReading[]>();
  for (const r of checked.readings) byMeter.set(r.meter, [...(byMeter.get(r.meter) ?? []), r]);
  const errors: EnergyImportRowError[] = [];
  const fresh: Array<{ meter: string; metric: string; list: ImportReading[] }> = [];
  const summary: Extract<EnergyImportResult, { ok: true }>['meters'] = [];
  let unchanged = 0;
  for (const [meter, list] of byMeter) {
    const metric = UNITS[config.meters.find((m) => m.id === meter)!.medium].register;
    const from = list[0]!.ts;
    const to = list[list.length - 1]!.ts;
    const stored = new Map(await telemetry.query({ device: meter, metric, from: Math.floor(from / 60_000) * 60_000, to: to + 1, stepMs: 60_000, agg: 'last' }));
    const news: ImportReading[] = [];
    for (const r of list) {
      const have = stored.get(Math.floor(r.ts / 60_000) * 60_000);
      if (have === undefined) news.push(r);
      else if (Math.abs(have - r.value) <= 1e-9 * Math.max(1, Math.abs(have))) unchanged += 1;
      else errors.push({ row: r.row, reason: `${meter} already has the reading ${have} at ${new Date(r.ts).toISOString()}; a different value is not overwritten` });
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
  return { ok: true, dryRun: file.dryRun, rows: checked.readings.length, imported, unchanged, meters: summary.sort((a, b) => a.meter.localeCompare(b.meter)) };
}
