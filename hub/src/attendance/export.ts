import ExcelJS from 'exceljs';
import type { NightRow } from '@warden/contract';
import { localClock } from './tz.ts';

const HEADERS = ['night', 'building', 'floor', 'room', 'student', 'name', 'state', 'time', 'out_again', 'reason', 'revision'] as const;

const cells = (r: NightRow, tz: string) => [
  r.night,
  r.building,
  r.floor,
  r.room,
  r.student,
  r.name,
  r.state,
  r.at !== null ? localClock(r.at, tz) : '',
  r.outAgain ? 'yes' : '',
  r.reason ?? '',
  r.revision,
];

function csvCell(v: string | number): string {
  let s = String(v);
  // A leading = + - @ would be a formula to a spreadsheet that opens the file.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** UTF-8 with BOM, so Excel opens Chinese names right. */
export function nightsCsv(rows: readonly NightRow[], tz: string): Buffer {
  const lines = [HEADERS.join(','), ...rows.map((r) => cells(r, tz).map(csvCell).join(','))];
  return Buffer.from(`\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

export async function nightsXlsx(rows: readonly NightRow[], tz: string, title: string): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Warden';
  const ws = wb.addWorksheet(title.slice(0, 31).replace(/[\\/?*[\]:]/g, '-'));
  ws.addRow([...HEADERS]).font = { bold: true };
  for (const r of rows) ws.addRow(cells(r, tz));
  ws.views = [{ state: 'frozen', ySplit: 1 }];
  ws.columns.forEach((c) => (c.width = 14));
  return Buffer.from(await wb.xlsx.writeBuffer());
}
