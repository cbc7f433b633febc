import type { Anomaly, Band, Consumption, Cost, Detection, EnergyMeter, EnergyNode, Medium, MediumCost } from '@warden/contract';
import { BANDS, MEDIA } from '../api/values.ts';

/*
 * Pure logic of the energy pages: the hierarchy, periods in the browser's local time (on campus, the hub's
 * `energy.utcOffsetHours`), chart series, the cost report table and its CSV.
 */

export interface FlatNode {
  node: EnergyNode;
  depth: number;
}

/** Depth-first, parents before children: the order of an indented tree list. */
export function flattenTree(tree: EnergyNode | null): FlatNode[] {
  const out: FlatNode[] = [];
  const walk = (n: EnergyNode, depth: number) => {
    out.push({ node: n, depth });
    for (const c of n.children) walk(c, depth + 1);
  };
  if (tree) walk(tree, 0);
  return out;
}

/** The nodes from the root down to `id` (breadcrumbs), or null when the tree has no such node. */
export function pathTo(tree: EnergyNode | null, id: string): EnergyNode[] | null {
  if (!tree) return null;
  if (tree.id === id) return [tree];
  for (const c of tree.children) {
    const p = pathTo(c, id);
    if (p) return [tree, ...p];
  }
  return null;
}

/** Media metered anywhere in the node's subtree, in the fixed power/water/gas order. */
export function subtreeMedia(node: EnergyNode): Medium[] {
  const seen = new Set<Medium>();
  const walk = (n: EnergyNode) => {
    for (const m of n.meters) seen.add(m.medium);
    n.children.forEach(walk);
  };
  walk(node);
  return MEDIA.filter((m) => seen.has(m));
}

export function metersOf(node: EnergyNode, medium: Medium, virtual: boolean): EnergyMeter[] {
  return node.meters.filter((m) => m.medium === medium && m.virtual === virtual);
}

/** `plus − minus` of a virtual meter, e.g. `pm-a − pm-a1 − pm-a2`. */
export function formula(m: EnergyMeter): string {
  const plus = (m.plus ?? []).join(' + ');
  const minus = (m.minus ?? []).map((id) => ` − ${id}`).join('');
  return `${plus}${minus}`;
}

// --- periods (browser-local time) ---

export function dayStart(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function monthStart(ms: number, addMonths = 0): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth() + addMonths, 1).getTime();
}

export function addDays(ms: number, days: number): number {
  const d = new Date(ms);
  d.setDate(d.getDate() + days);
  return d.getTime();
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `YYYY-MM-DD` of a local date, the value of an `<input type="date">`. */
export function toDateInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local midnight of a `YYYY-MM-DD`; null when it is not a date. */
export function fromDateInput(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) || d.getDate() !== Number(m[3]) ? null : d.getTime();
}

export interface Period {
  label: string;
  from: number;
  to: number;
}

/** The days or months that overlap `[from, to)`, each whole (a report row is a whole day or month). */
export function periodsBetween(from: number, to: number, unit: 'day' | 'month'): Period[] {
  const out: Period[] = [];
  let start = unit === 'day' ? dayStart(from) : monthStart(from);
  while (start < to) {
    const end = unit === 'day' ? addDays(start, 1) : monthStart(start, 1);
    const d = new Date(start);
    const label = unit === 'day' ? toDateInput(start) : `${d.getFullYear()}-${pad(d.getMonth() + 1)}`;
    out.push({ label, from: start, to: end });
    start = end;
  }
  return out;
}

/** A label for a chart bucket that fits its step. */
export function bucketLabel(ms: number, step: string): string {
  const d = new Date(ms);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  if (step === '1mo') return date.slice(0, 7);
  if (step === '1d') return date;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// --- numbers ---

/** Amounts and money with at most two decimals, grouped for the language. */
export function formatNumber(n: number, lang: string, digits = 2): string {
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(n);
}

/** A cost answer per medium; a medium with no meters is absent (shown as a dash, not as 0). */
export function byMedium(cost: Cost | null | undefined): Partial<Record<Medium, MediumCost>> {
  const out: Partial<Record<Medium, MediumCost>> = {};
  for (const m of cost?.media ?? []) out[m.medium] = m;
  return out;
}

export function flaggedBuckets(c: Consumption): number {
  return c.points.filter((p) => p[2].length > 0).length;
}

// --- chart ---

export interface ChartSeries {
  label: string;
  points: ReadonlyArray<readonly [number, number, ...unknown[]]>;
}

/**
 * uPlot's aligned data: x in seconds (the union of every series' buckets, ascending), then one array per series
 * with null where that series has no bucket (drawn as a break, not as a zero).
 */
export function alignSeries(series: readonly ChartSeries[]): [number[], ...Array<Array<number | null>>] {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const y: Array<number | null> = xs.map(() => null);
    for (const p of s.points) y[index.get(p[0])!] = p[1];
    return y;
  });
  return [xs.map((x) => x / 1000), ...ys];
}

// --- cost report ---

export interface CostRow {
  period: string;
  node: string;
  nodeName: string;
  medium: Medium;
  unit: string;
  amount: number;
  cost: number;
  unpriced: number;
  bands: Partial<Record<Band, { amount: number; cost: number }>>;
}

/** One row per period × node × medium with consumption; bands only where the tariff has them (TOU power). */
export function costRows(entries: ReadonlyArray<{ period: string; node: EnergyNode; cost: Cost }>): CostRow[] {
  const rows: CostRow[] = [];
  for (const e of entries) {
    for (const m of e.cost.media) {
      const bands: CostRow['bands'] = {};
      if (m.byBand) for (const b of BANDS) if (m.byBand[b].amount !== 0 || m.byBand[b].cost !== 0) bands[b] = m.byBand[b];
      rows.push({ period: e.period, node: e.node.id, nodeName: e.node.name, medium: m.medium, unit: m.unit, amount: m.amount, cost: m.cost, unpriced: m.unpriced, bands });
    }
  }
  return rows;
}

export function costTotal(rows: readonly CostRow[]): number {
  return round(rows.reduce((s, r) => s + r.cost, 0), 2);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** RFC 4180 field: quoted when it holds a comma, quote or line break; a leading = + - @ is defused for spreadsheets. */
export function csvField(v: string | number): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface CsvHeaders {
  period: string;
  node: string;
  nodeName: string;
  medium: string;
  unit: string;
  amount: string;
  cost: string;
  unpriced: string;
  bandAmount: (band: Band) => string;
  bandCost: (band: Band) => string;
  mediumLabel: (m: Medium) => string;
}

/**
 * The cost report as CSV: CRLF lines, plain numbers (no grouping, so spreadsheets read them), empty band cells
 * where a tariff has no bands. Starts with a BOM so that Excel opens the Chinese headers as UTF-8.
 */
export function costCsv(rows: readonly CostRow[], h: CsvHeaders): string {
  const header = [h.period, h.node, h.nodeName, h.medium, h.unit, h.amount, h.cost, h.unpriced, ...BANDS.flatMap((b) => [h.bandAmount(b), h.bandCost(b)])];
  const lines = [header.map(csvField).join(',')];
  for (const r of rows) {
    const bandCells = BANDS.flatMap((b): Array<string | number> => (r.bands[b] ? [r.bands[b].amount, r.bands[b].cost] : ['', '']));
    const cells: Array<string | number> = [r.period, r.node, r.nodeName, h.mediumLabel(r.medium), r.unit, r.amount, r.cost, r.unpriced, ...bandCells];
    lines.push(cells.map(csvField).join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

// --- anomalies ---

export interface AnomalyFilter {
  kind: string;
  q: string;
}

/** The alert's sentence in the console's language (zh or en). */
export function anomalySentence(a: Pick<Anomaly, 'text'>, lang: string): string {
  return lang.startsWith('zh') ? a.text.zh : a.text.en;
}

/** Newest first; by kind and by meter or sentence (either language). */
export function filterAnomalies(list: readonly Anomaly[], f: AnomalyFilter): Anomaly[] {
  const q = f.q.trim().toLowerCase();
  return list
    .filter((a) => !f.kind || a.kind === f.kind)
    .filter((a) => !q || a.meter.toLowerCase().includes(q) || a.text.en.toLowerCase().includes(q) || a.text.zh.includes(q))
    .sort((a, b) => b.from - a.from || a.meter.localeCompare(b.meter));
}

export function anomalyKinds(list: readonly Anomaly[]): string[] {
  return [...new Set(list.map((a) => a.kind))].sort();
}

/** The period charted around an alert: two days before it, one after (not past `now`). */
export function anomalyChartWindow(a: { from: number; to: number }, now: number): { from: number; to: number } {
  const H = 3_600_000;
  return { from: a.from - 48 * H, to: Math.max(a.to, Math.min(a.to + 24 * H, Math.ceil(now / H) * H)) };
}

/**
 * uPlot columns for the anomaly chart: x (seconds), use, band low, band high, expected, use within the alert; and
 * counts the page exposes (hours, hours with a band, alert hours, alert hours outside the band).
 */
export function anomalyChartData(hours: Detection['hours'], alert: { from: number; to: number }) {
  const x: number[] = [];
  const value: Array<number | null> = [];
  const low: Array<number | null> = [];
  const high: Array<number | null> = [];
  const expected: Array<number | null> = [];
  const inAlert: Array<number | null> = [];
  let bandHours = 0;
  let alertHours = 0;
  let outsideBand = 0;
  for (const h of hours) {
    x.push(h.ts / 1000);
    value.push(h.value);
    low.push(h.low);
    high.push(h.high);
    expected.push(h.expected);
    const inside = h.ts >= alert.from && h.ts < alert.to;
    inAlert.push(inside ? h.value : null);
    if (h.low !== null && h.high !== null) bandHours++;
    if (inside) {
      alertHours++;
      if (h.value !== null && ((h.high !== null && h.value > h.high) || (h.low !== null && h.value < h.low))) outsideBand++;
    }
  }
  return { series: [x, value, low, high, expected, inAlert], hours: hours.length, bandHours, alertHours, outsideBand };
}

/** A file picked for the history import: its format by extension, or null. */
export function importFormat(name: string): 'csv' | 'xlsx' | null {
  const n = name.toLowerCase();
  return n.endsWith('.csv') || n.endsWith('.txt') ? 'csv' : n.endsWith('.xlsx') ? 'xlsx' : null;
}

// --- hash route ---

/** `#/energy/teach-a` -> `teach-a`; the overview (`#/energy`) -> null. */
export function energyNodeFromHash(hash: string): string | null {
  const m = /^#\/?energy\/([^?]+)/.exec(hash);
  return m ? decodeURIComponent(m[1]!) : null;
}

/** A physical or virtual meter of the tree with the node it belongs to. */
export function findMeter(tree: EnergyNode | null, id: string): { meter: EnergyMeter; node: EnergyNode } | null {
  for (const { node } of flattenTree(tree)) {
    const meter = node.meters.find((m) => m.id === id);
    if (meter) return { meter, node };
  }
  return null;
}

// --- schedules ---

/** `07:00–12:00 90%, 14:00–22:00` (level shown when below 100); an empty day is a dash. */
export function periodsText(periods: ReadonlyArray<{ from: string; to: string; level?: number }> | undefined): string {
  if (!periods || periods.length === 0) return '–';
  return periods.map((p) => `${p.from}–${p.to}${p.level !== undefined && p.level < 100 ? ` ${p.level}%` : ''}`).join(', ');
}

export type CommandState = 'none' | 'pending' | 'confirmed' | 'failed';

/** Where the last command to a circuit stands: sent and waiting, confirmed by the actuator, or failed/refused. */
export function commandState(sent: { confirmed: boolean | null; error?: string } | null): CommandState {
  if (!sent) return 'none';
  if (sent.error !== undefined || sent.confirmed === false) return 'failed';
  return sent.confirmed ? 'confirmed' : 'pending';
}

/**
 * An anomaly's explanation in the console's language: the rule's template filled with the alert's numbers.
 * Null when the template names a number the alert does not carry (e.g. a rule the hub extended), so the caller shows
 * the hub's own sentence instead of a half-filled one.
 */
export function fillTemplate(template: string | undefined, numbers: Record<string, number>, fmt: (n: number) => string): string | null {
  if (!template) return null;
  let missing = false;
  const text = template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    const v = numbers[k];
    if (v === undefined) {
      missing = true;
      return '';
    }
    return fmt(v);
  });
  return missing ? null : text;
}
