import { parse as parseCsv } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type { RosterDiff, RosterRowError } from '@warden/contract';
import { samePlace, type Place, type Roster } from './roster.ts';

/** One valid roster line. */
export interface RosterRow extends Place {
  row: number;
  student: string;
  name: string;
  exempt: boolean;
}

export type ParsedRoster = { ok: true; rows: RosterRow[] } | { ok: false; errors: RosterRowError[] };

/** Column -> accepted headers (English and Chinese, case and spacing ignored). */
const COLUMNS = {
  student: ['student', 'student_id', 'studentid', 'id', '学号'],
  name: ['name', '姓名'],
  building: ['building', '楼栋', '宿舍楼'],
  floor: ['floor', '楼层'],
  room: ['room', '房间', '房间号', '宿舍'],
  exempt: ['exempt', '免查', '免考勤'],
} as const;
type Column = keyof typeof COLUMNS;
const REQUIRED: readonly Column[] = ['student', 'name', 'building', 'floor', 'room'];
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const PLACE_RE = /^[^\s/\\][^/\\]{0,63}$/;
export const MAX_ROSTER_ROWS = 100_000;

const norm = (h: string) => h.trim().toLowerCase().replace(/[\s-]+/g, '_');

function columnOf(header: string): Column | null {
  const h = norm(header);
  for (const [col, names] of Object.entries(COLUMNS) as Array<[Column, readonly string[]]>) if (names.some((n) => norm(n) === h)) return col;
  return null;
}

function parseExempt(v: string): boolean | null {
  const s = v.trim().toLowerCase();
  if (['', '0', 'no', 'n', 'false', '否'].includes(s)) return false;
  if (['1', 'yes', 'y', 'true', '是'].includes(s)) return true;
  return null;
}

/** Checks rows of cells (first row: headers); every problem is reported with its spreadsheet row number (1-based). */
export function checkRoster(table: ReadonlyArray<{ row: number; cells: string[] }>): ParsedRoster {
  const errors: RosterRowError[] = [];
  const header = table[0];
  if (!header) return { ok: false, errors: [{ row: 1, column: null, reason: 'the file is empty' }] };
  const index = new Map<Column, number>();
  header.cells.forEach((h, i) => {
    const col = columnOf(h);
    if (col && index.has(col)) errors.push({ row: header.row, column: h, reason: `column ${col} appears twice` });
    else if (col) index.set(col, i);
  });
  for (const col of REQUIRED) if (!index.has(col)) errors.push({ row: header.row, column: col, reason: `missing column ${col} (one of: ${COLUMNS[col].join(', ')})` });
  if (errors.length) return { ok: false, errors };
  if (table.length - 1 > MAX_ROSTER_ROWS) return { ok: false, errors: [{ row: header.row, column: null, reason: `more than ${MAX_ROSTER_ROWS} rows` }] };

  const rows: RosterRow[] = [];
  const seen = new Map<string, number>();
  for (const line of table.slice(1)) {
    if (line.cells.every((c) => c.trim() === '')) continue;
    const get = (c: Column) => (index.has(c) ? (line.cells[index.get(c)!] ?? '').trim() : '');
    const rowErrors: RosterRowError[] = [];
    for (const col of REQUIRED) if (get(col) === '') rowErrors.push({ row: line.row, column: col, reason: `${col} is empty` });
    const student = get('student');
    if (student && !ID_RE.test(student)) rowErrors.push({ row: line.row, column: 'student', reason: `student id ${JSON.stringify(student)} has characters other than letters, digits, _ . - or is longer than 64` });
    for (const col of ['building', 'floor', 'room'] as const) {
      const v = get(col);
      if (v && !PLACE_RE.test(v)) rowErrors.push({ row: line.row, column: col, reason: `${col} ${JSON.stringify(v)} is longer than 64 characters or contains a slash` });
    }
    if (get('name').length > 100) rowErrors.push({ row: line.row, column: 'name', reason: 'name is longer than 100 characters' });
    const exempt = parseExempt(get('exempt'));
    if (exempt === null) rowErrors.push({ row: line.row, column: 'exempt', reason: `exempt ${JSON.stringify(get('exempt'))} is not yes/no (是/否, 1/0)` });
    if (student && seen.has(student)) rowErrors.push({ row: line.row, column: 'student', reason: `student ${student} is already on row ${seen.get(student)}` });
    else if (student) seen.set(student, line.row);
    if (rowErrors.length) errors.push(...rowErrors);
    else rows.push({ row: line.row, student, name: get('name'), building: get('building'), floor: get('floor'), room: get('room'), exempt: exempt! });
  }
  if (errors.length) return { ok: false, errors };
  if (rows.length === 0) return { ok: false, errors: [{ row: header.row, column: null, reason: 'the file has no student rows' }] };
  return { ok: true, rows };
}

export function parseRosterCsv(data: Buffer | string): ParsedRoster {
  let records: string[][];
  try {
    records = parseCsv(data, { bom: true, relax_column_count: true, skip_empty_lines: false, trim: false }) as string[][];
  } catch (err) {
    const e = err as Error & { lines?: number };
    return { ok: false, errors: [{ row: e.lines ?? 0, column: null, reason: `not a readable CSV file: ${e.message}` }] };
  }
  return checkRoster(records.map((cells, i) => ({ row: i + 1, cells })));
}

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    if ('richText' in v) return v.richText.map((r) => r.text).join('');
    if ('text' in v && typeof v.text === 'string') return v.text;
    if ('result' in v) return cellText(v.result as ExcelJS.CellValue);
    if ('error' in v) return `#${String(v.error)}`;
  }
  return String(v);
}

/** The first worksheet of an XLSX file. */
export async function parseRosterXlsx(data: Buffer): Promise<ParsedRoster> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(data as unknown as ArrayBuffer);
  } catch (err) {
    return { ok: false, errors: [{ row: 0, column: null, reason: `not a readable XLSX file: ${(err as Error).message}` }] };
  }
  const ws = wb.worksheets[0];
  if (!ws) return { ok: false, errors: [{ row: 0, column: null, reason: 'the workbook has no worksheet' }] };
  if (ws.rowCount > MAX_ROSTER_ROWS + 1) return { ok: false, errors: [{ row: 1, column: null, reason: `more than ${MAX_ROSTER_ROWS} rows` }] };
  const table: Array<{ row: number; cells: string[] }> = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const cells: string[] = [];
    for (let c = 1; c <= row.cellCount; c++) cells.push(cellText(row.getCell(c).value));
    table.push({ row: rowNumber, cells });
  });
  return checkRoster(table);
}

export async function parseRosterFile(data: Buffer, format: 'csv' | 'xlsx'): Promise<ParsedRoster> {
  return format === 'xlsx' ? parseRosterXlsx(data) : parseRosterCsv(data);
}

/** What applying these rows from `effective` would change: new students, moves, leavers (residents not in the file), renames. */
export function diffRoster(roster: Roster, rows: readonly RosterRow[], effective: string): RosterDiff {
  const diff: RosterDiff = { effective, rows: rows.length, added: [], moved: [], left: [], renamed: [], unchanged: 0 };
  const inFile = new Set<string>();
  for (const r of rows) {
    inFile.add(r.student);
    const to = { building: r.building, floor: r.floor, room: r.room };
    const s = roster.students.get(r.student);
    const cur = roster.current(r.student);
    if (!s || !cur) {
      diff.added.push({ student: r.student, name: r.name, to });
      continue;
    }
    let changed = false;
    if (!samePlace(cur, to)) {
      diff.moved.push({ student: r.student, name: r.name, from: { building: cur.building, floor: cur.floor, room: cur.room }, to });
      changed = true;
    }
    if (s.name !== r.name) {
      diff.renamed.push({ student: r.student, from: s.name, to: r.name });
      changed = true;
    }
    if (!changed && s.exempt === r.exempt) diff.unchanged++;
  }
  for (const s of roster.students.values()) {
    if (inFile.has(s.id)) continue;
    const cur = roster.current(s.id);
    if (cur) diff.left.push({ student: s.id, name: s.name, from: { building: cur.building, floor: cur.floor, room: cur.room } });
  }
  return diff;
}
