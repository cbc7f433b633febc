import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { detect, flaggedHours, pool, robustZFlags, score, type DetectorOptions, type HourlySeries, type Medium, type Scores } from '@warden/hub/energy/detection/index.ts';

/**
 * `npm run bench anomalies`: Warden's energy anomaly detector beside the robust z baseline (per hour of
 * the week over the previous 28 days) on every labelled series in ../shared/energy-labelled/, both
 * run here on the same hours. Scores: hour-level precision, recall, F1, and recall per labelled event
 * (a run of consecutive labelled hours counts as found when one of its hours is flagged).
 *
 * The detector's settings were chosen on the TUNING series only; the others are held out.
 * Data: LEAD1.0 (Gulati & Arjunan, BuildSys 2022) from the Building Data Genome 2 (Miller et al.,
 * Scientific Data 7:368, 2020); the gas series from the FuzzyEnergy project's university building study.
 */
export const TUNING = new Set(['lead_254', 'lead_335']);

export interface LabelledSeries {
  name: string;
  medium: Medium;
  unit: string;
  series: HourlySeries;
  labels: boolean[];
}

export function labelledDir(): string {
  return process.env.WARDEN_LABELLED_DIR ?? fileURLToPath(new URL('../../../shared/energy-labelled/', import.meta.url));
}

const HOUR = 3_600_000;

/** Reads one labelled CSV; timestamps are site-local, so they are taken as UTC with offset 0. */
export function readLabelled(path: string, name: string): LabelledSeries {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim());
  const header = lines[0]!.split(',');
  const tsCol = header.findIndex((h) => h.startsWith('timestamp'));
  const hourEnding = header[tsCol] === 'timestamp_hour_ending';
  const valueCol = header.findIndex((h) => h === 'meter_reading' || h === 'gas_m3');
  const labelCol = header.indexOf('anomaly');
  if (tsCol < 0 || valueCol < 0 || labelCol < 0) throw new Error(`${path}: unexpected columns ${header.join(',')}`);
  const rows = lines.slice(1).map((l, k) => {
    const c = l.split(',');
    const ts = Date.parse(`${c[tsCol]!.replace(' ', 'T')}Z`) - (hourEnding ? HOUR : 0);
    if (!Number.isFinite(ts)) throw new Error(`${path} row ${k + 2}: bad timestamp ${c[tsCol]}`);
    const raw = c[valueCol]?.trim();
    return { ts, value: raw === '' || raw === undefined ? null : Number(raw), label: c[labelCol]!.trim() === '1' };
  });
  rows.sort((a, b) => a.ts - b.ts);
  const start = rows[0]!.ts;
  const n = (rows[rows.length - 1]!.ts - start) / HOUR + 1;
  const values: Array<number | null> = new Array(n).fill(null);
  const labels: boolean[] = new Array(n).fill(false);
  for (const r of rows) {
    const i = (r.ts - start) / HOUR;
    values[i] = r.value;
    labels[i] = r.label;
  }
  const gas = valueCol >= 0 && header[valueCol] === 'gas_m3';
  return { name, medium: gas ? 'gas' : 'power', unit: gas ? 'm³' : 'kWh', series: { start, values }, labels };
}

export function loadLabelled(dir = labelledDir()): LabelledSeries[] | null {
  if (!existsSync(dir)) return null;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => readLabelled(join(dir, f), f.replace(/\.csv$/, '')));
}

/**
 * The calendar the bench gives the detector: weekends only. The sites' public holidays are not part
 * of the data set (and the labellers marked several holiday days as anomalous), so none are given.
 */
export function benchOptions(s: LabelledSeries): DetectorOptions {
  return { calendar: { utcOffsetHours: 0 }, medium: s.medium, unit: s.unit };
}

const pct = (x: number): string => (x * 100).toFixed(1).padStart(5);

function line(name: string, who: string, s: Scores): string {
  return `${name.padEnd(22)} ${who.padEnd(9)} ${pct(s.precision)} ${pct(s.recall)} ${pct(s.f1)}   ${`${s.eventsFound}/${s.events}`.padStart(6)} ${pct(s.eventRecall)}  ${String(s.flagged).padStart(6)} ${String(s.labelled).padStart(6)}`;
}

export async function benchAnomalies(): Promise<void> {
  const dir = labelledDir();
  const all = loadLabelled(dir);
  console.log('\n== energy anomaly detection on labelled real meters (hour-level P/R/F1 %, event recall)');
  if (!all) {
    console.log(`SKIPPED: ${dir} is absent (the labelled data lives in ../shared/energy-labelled/, not in a user's clone)`);
    return;
  }
  console.log(`data: ${dir} (LEAD1.0 / Building Data Genome 2; FuzzyEnergy gas); detector settings chosen on ${[...TUNING].join(', ')}, the rest held out`);
  console.log(`${'series'.padEnd(22)} ${'detector'.padEnd(9)} ${'P'.padStart(5)} ${'R'.padStart(5)} ${'F1'.padStart(5)}   ${'events'.padStart(6)} ${'evR'.padStart(5)}  ${'flagged'.padStart(6)} ${'labelled'.padStart(6)}`);
  const warden: Record<string, Scores> = {};
  const base: Record<string, Scores> = {};
  let ms = 0;
  for (const s of all) {
    const t = performance.now();
    const d = detect(s.series, benchOptions(s));
    ms += performance.now() - t;
    warden[s.name] = score(flaggedHours(d), s.labels);
    base[s.name] = score(robustZFlags(s.series), s.labels);
    const tag = `${s.name}${TUNING.has(s.name) ? ' (tune)' : ' (held)'}`;
    console.log(line(tag, 'warden', warden[s.name]!));
    console.log(line('', 'robust z', base[s.name]!));
  }
  const groups: Array<[string, (n: string) => boolean]> = [
    ['tuning series', (n) => TUNING.has(n)],
    ['held-out series', (n) => !TUNING.has(n)],
    ['all (pooled)', () => true],
  ];
  for (const [label, pick] of groups) {
    const names = all.map((s) => s.name).filter(pick);
    if (!names.length) continue;
    console.log(line(label, 'warden', pool(names.map((n) => warden[n]!))));
    console.log(line('', 'robust z', pool(names.map((n) => base[n]!))));
  }
  const macro = (m: Record<string, Scores>): number => all.reduce((a, s) => a + m[s.name]!.f1, 0) / all.length;
  console.log(`macro-average F1 over ${all.length} series: warden ${pct(macro(warden))}  robust z ${pct(macro(base))}`);
  const hours = all.reduce((a, s) => a + s.labels.length, 0);
  console.log(`detector time: ${ms.toFixed(0)} ms for ${hours.toLocaleString('en-US')} hours (${((ms / hours) * 1000).toFixed(1)} µs/hour, whole-year batch)`);
  // What the hub's energy watch pays each hour: one detection over a meter's last 91 days.
  const windows = all.flatMap((s) => Array.from({ length: 8 }, (_, k) => ({ s, from: (40 + k * 30) * 24 })).filter((w) => w.from + 91 * 24 <= s.labels.length));
  for (const w of windows.slice(0, 4)) detect({ start: w.s.series.start, values: w.s.series.values.slice(w.from, w.from + 91 * 24) }, benchOptions(w.s)); // warm-up
  const samples = windows.map((w) => {
    const t = performance.now();
    detect({ start: w.s.series.start + w.from * 3_600_000, values: w.s.series.values.slice(w.from, w.from + 91 * 24) }, benchOptions(w.s));
    return performance.now() - t;
  });
  samples.sort((a, b) => a - b);
  const p50 = samples[Math.floor(samples.length / 2)]!;
  console.log(`hourly watch cost: one 91-day detection p50 ${p50.toFixed(1)} ms, max ${samples.at(-1)!.toFixed(1)} ms over ${samples.length} windows; 2,000 meters ≈ ${((p50 * 2000) / 1000).toFixed(0)} s of one core per hour`);
}
