import { describe, expect, it } from 'vitest';
import type { Anomaly, Cost, EnergyNode } from '@warden/contract';
import { getAll } from '../src/state/fetchAll.ts';
import {
  addDays,
  alignSeries,
  anomalyChartData,
  anomalyChartWindow,
  anomalyKinds,
  anomalySentence,
  bucketLabel,
  commandState,
  periodsText,
  byMedium,
  costCsv,
  costRows,
  costTotal,
  csvField,
  energyNodeFromHash,
  fillTemplate,
  filterAnomalies,
  importFormat,
  findMeter,
  flattenTree,
  formatNumber,
  formula,
  fromDateInput,
  monthStart,
  pathTo,
  periodsBetween,
  subtreeMedia,
  toDateInput,
  type CsvHeaders,
} from '../src/lib/energy.ts';

const node = (id: string, type: EnergyNode['type'], children: EnergyNode[] = [], meters: EnergyNode['meters'] = []): EnergyNode => ({ id, name: `N ${id}`, type, meters, children });
const tree = node('campus', 'campus', [
  node('north', 'zone', [
    node('teach-a', 'building', [node('a-1', 'floor', [], [{ id: 'pm-a1', medium: 'power', unit: 'kWh', virtual: false }])], [
      { id: 'pm-a', medium: 'power', unit: 'kWh', virtual: false },
      { id: 'loss-a', medium: 'power', unit: 'kWh', virtual: true, plus: ['pm-a'], minus: ['pm-a1', 'pm-a2'] },
    ]),
    node('dorm-1', 'building', [], [{ id: 'wm-d1', medium: 'water', unit: 'm³', virtual: false }]),
  ]),
]);

describe('hierarchy', () => {
  it('flattens parents before children with depths', () => {
    expect(flattenTree(tree).map((f) => `${f.depth}:${f.node.id}`)).toEqual(['0:campus', '1:north', '2:teach-a', '3:a-1', '2:dorm-1']);
    expect(flattenTree(null)).toEqual([]);
  });
  it('breadcrumbs to a node, none for an unknown id', () => {
    expect(pathTo(tree, 'a-1')?.map((n) => n.id)).toEqual(['campus', 'north', 'teach-a', 'a-1']);
    expect(pathTo(tree, 'nope')).toBeNull();
  });
  it('media of a subtree in fixed order', () => {
    expect(subtreeMedia(tree)).toEqual(['power', 'water']);
    expect(subtreeMedia(pathTo(tree, 'dorm-1')!.at(-1)!)).toEqual(['water']);
  });
  it('finds a meter with its node; shows a virtual meter formula', () => {
    expect(findMeter(tree, 'pm-a1')?.node.id).toBe('a-1');
    expect(findMeter(tree, 'x')).toBeNull();
    expect(formula(findMeter(tree, 'loss-a')!.meter)).toBe('pm-a − pm-a1 − pm-a2');
  });
  it('drill-down address from the hash', () => {
    expect(energyNodeFromHash('#/energy/teach-a')).toBe('teach-a');
    expect(energyNodeFromHash('#/energy/b%201')).toBe('b 1');
    expect(energyNodeFromHash('#/energy')).toBeNull();
    expect(energyNodeFromHash('#/energyCost')).toBeNull();
  });
});

describe('periods in local time', () => {
  it('date inputs round-trip and reject impossible dates', () => {
    const ms = fromDateInput('2026-03-09')!;
    expect(toDateInput(ms)).toBe('2026-03-09');
    expect(new Date(ms).getHours()).toBe(0);
    expect(fromDateInput('2026-02-30')).toBeNull();
    expect(fromDateInput('yesterday')).toBeNull();
  });
  it('whole days and months overlapping a range', () => {
    const from = fromDateInput('2026-01-30')! + 5 * 3_600_000;
    const to = fromDateInput('2026-02-02')!;
    expect(periodsBetween(from, to, 'day').map((p) => p.label)).toEqual(['2026-01-30', '2026-01-31', '2026-02-01']);
    const months = periodsBetween(fromDateInput('2025-12-15')!, fromDateInput('2026-02-01')! + 1, 'month');
    expect(months.map((p) => p.label)).toEqual(['2025-12', '2026-01', '2026-02']);
    expect(months[1]).toMatchObject({ from: fromDateInput('2026-01-01'), to: fromDateInput('2026-02-01') });
    expect(monthStart(fromDateInput('2026-01-20')!, -1)).toBe(fromDateInput('2025-12-01'));
    expect(addDays(fromDateInput('2026-12-31')!, 1)).toBe(fromDateInput('2027-01-01'));
  });
  it('bucket labels by step', () => {
    const ms = fromDateInput('2026-11-02')! + 8 * 3_600_000 + 15 * 60_000;
    expect(bucketLabel(ms, '15m')).toBe('2026-11-02 08:15');
    expect(bucketLabel(ms, '1d')).toBe('2026-11-02');
    expect(bucketLabel(ms, '1mo')).toBe('2026-11');
  });
});

describe('numbers and chart data', () => {
  it('formats amounts per language with at most two decimals', () => {
    expect(formatNumber(12345.678, 'en')).toBe('12,345.68');
    expect(formatNumber(480, 'zh-CN')).toBe('480');
  });
  it('a medium without meters is absent, not zero', () => {
    const cost: Cost = { node: 'c', from: 0, to: 1, total: 5, media: [{ medium: 'power', unit: 'kWh', amount: 10, cost: 5, unpriced: 0, byTariff: [] }] };
    expect(byMedium(cost).power?.amount).toBe(10);
    expect(byMedium(cost).water).toBeUndefined();
    expect(byMedium(null)).toEqual({});
  });
  it('aligns series on the union of buckets (seconds), null where a series has none', () => {
    const data = alignSeries([
      { label: 'a', points: [[2000, 2, []], [1000, 1, []]] },
      { label: 'loss', points: [[3000, 0.5, []], [1000, 0.1, []]] },
    ]);
    expect(data).toEqual([[1, 2, 3], [1, 2, null], [0.1, null, 0.5]]);
  });
});

describe('cost report', () => {
  const a = pathTo(tree, 'teach-a')!.at(-1)!;
  const costA: Cost = {
    node: 'teach-a',
    from: 0,
    to: 1,
    total: 400.5,
    media: [
      { medium: 'power', unit: 'kWh', amount: 480, cost: 400, unpriced: 0, byBand: { peak: { amount: 320, cost: 320 }, flat: { amount: 0, cost: 0 }, valley: { amount: 160, cost: 80 } }, byTariff: [] },
      { medium: 'water', unit: 'm³', amount: 2, cost: 0.5, unpriced: 1, byTariff: [] },
    ],
  };
  const rows = costRows([{ period: '2026-11', node: a, cost: costA }]);
  const h: CsvHeaders = {
    period: 'period', node: 'node', nodeName: 'name', medium: 'medium', unit: 'unit', amount: 'amount', cost: 'cost', unpriced: 'unpriced',
    bandAmount: (b) => `${b} amount`, bandCost: (b) => `${b} cost`, mediumLabel: (m) => m.toUpperCase(),
  };

  it('one row per period × node × medium; bands only where used', () => {
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ period: '2026-11', node: 'teach-a', nodeName: 'N teach-a', medium: 'power', amount: 480, cost: 400 });
    expect(Object.keys(rows[0]!.bands)).toEqual(['peak', 'valley']);
    expect(rows[1]!.bands).toEqual({});
    expect(costTotal(rows)).toBe(400.5);
  });
  it('CSV: BOM, header, CRLF, plain numbers, empty band cells', () => {
    const csv = costCsv(rows, h);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines[0]).toBe('period,node,name,medium,unit,amount,cost,unpriced,peak amount,peak cost,flat amount,flat cost,valley amount,valley cost');
    expect(lines[1]).toBe('2026-11,teach-a,N teach-a,POWER,kWh,480,400,0,320,320,,,160,80');
    expect(lines[2]).toBe('2026-11,teach-a,N teach-a,WATER,m³,2,0.5,1,,,,,,');
    expect(lines[3]).toBe('');
  });
  it('CSV fields are quoted and formula-safe', () => {
    expect(csvField('Lab, "B"')).toBe('"Lab, ""B"""');
    expect(csvField('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(csvField(-3)).toBe('-3');
  });
});

describe('anomalies', () => {
  const an = (kind: Anomaly['kind'], meter: string, from: number): Anomaly => ({
    kind,
    meter,
    medium: meter.startsWith('wm') ? 'water' : 'power',
    unit: 'kWh',
    direction: null,
    from,
    to: from + 1,
    hours: 1,
    numbers: {},
    text: { key: `energy.anomaly.${kind}`, params: {}, en: `${kind} at ${meter}`, zh: `${meter} 异常` },
  });
  const list = [an('spike', 'pm-a', 1), an('leak', 'wm-d1', 3), an('spike', 'pm-b', 2)];
  it('filters by kind and text (either language), newest first', () => {
    expect(filterAnomalies(list, { kind: '', q: '' }).map((a) => a.meter)).toEqual(['wm-d1', 'pm-b', 'pm-a']);
    expect(filterAnomalies(list, { kind: 'spike', q: '' }).map((a) => a.meter)).toEqual(['pm-b', 'pm-a']);
    expect(filterAnomalies(list, { kind: '', q: 'WM-' }).map((a) => a.meter)).toEqual(['wm-d1']);
    expect(filterAnomalies(list, { kind: '', q: 'leak at' }).map((a) => a.meter)).toEqual(['wm-d1']);
    expect(anomalyKinds(list)).toEqual(['leak', 'spike']);
  });
  it('the sentence in the console language', () => {
    expect(anomalySentence(list[0]!, 'zh-CN')).toBe('pm-a 异常');
    expect(anomalySentence(list[0]!, 'en')).toBe('spike at pm-a');
  });
  it('the chart: two days before the alert, a day after but not past now; band and alert hours counted', () => {
    const H = 3_600_000;
    expect(anomalyChartWindow({ from: 100 * H, to: 103 * H }, 200 * H)).toEqual({ from: 52 * H, to: 127 * H });
    expect(anomalyChartWindow({ from: 100 * H, to: 103 * H }, 105 * H + 1)).toEqual({ from: 52 * H, to: 106 * H });
    const hour = (ts: number, value: number | null, band: boolean) => ({ ts, value, expected: band ? 10 : null, low: band ? 8 : null, high: band ? 12 : null, z: null, flag: null, dismissed: false });
    const d = anomalyChartData([hour(0, 10, false), hour(H, 11, true), hour(2 * H, 30, true), hour(3 * H, null, true)], { from: H, to: 4 * H });
    expect(d).toMatchObject({ hours: 4, bandHours: 3, alertHours: 3, outsideBand: 1 });
    expect(d.series[0]).toEqual([0, 3600, 7200, 10800]);
    expect(d.series[5]).toEqual([null, 11, 30, null]);
  });
  it('the import format from the file name', () => {
    expect(importFormat('march.CSV')).toBe('csv');
    expect(importFormat('bms.xlsx')).toBe('xlsx');
    expect(importFormat('bms.xls')).toBeNull();
  });
});

describe('bounded parallel fetching', () => {
  it('keeps order and never has more than the limit in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await getAll(['a', 'b', 'c', 'd', 'e'], async (p) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, p === 'a' ? 5 : 1));
      inFlight--;
      return p.toUpperCase();
    }, 2);
    expect(out).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(most).toBe(2);
  });
});

describe('schedules', () => {
  it('weekly periods as text, level only below 100', () => {
    expect(periodsText([{ from: '07:00', to: '12:00', level: 90 }, { from: '14:00', to: '22:00' }, { from: '22:00', to: '24:00', level: 100 }])).toBe('07:00–12:00 90%, 14:00–22:00, 22:00–24:00');
    expect(periodsText([])).toBe('–');
    expect(periodsText(undefined)).toBe('–');
  });
  it('command state from the last command sent', () => {
    expect(commandState(null)).toBe('none');
    expect(commandState({ confirmed: null })).toBe('pending');
    expect(commandState({ confirmed: true })).toBe('confirmed');
    expect(commandState({ confirmed: false })).toBe('failed');
    expect(commandState({ confirmed: null, error: 'gateway offline' })).toBe('failed');
  });
});

describe('anomaly explanations in the console language', () => {
  it('fills the rule template with the numbers, or gives up when one is missing', () => {
    const fmt = (n: number) => formatNumber(n, 'en');
    expect(fillTemplate('{{averageKw}} kW above {{thresholdKw}} kW', { averageKw: 20.456, thresholdKw: 15 }, fmt)).toBe('20.46 kW above 15 kW');
    expect(fillTemplate('{{averageKw}} kW above {{thresholdKw}} kW', { averageKw: 20 }, fmt)).toBeNull();
    expect(fillTemplate(undefined, {}, fmt)).toBeNull();
  });
});
