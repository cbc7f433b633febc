import { describe, expect, it } from 'vitest';
import { ConfigError, parseHubConfig } from '../../src/config.ts';

const base = {
  nodes: [
    { id: 'campus', type: 'campus', name: 'Campus' },
    { id: 'north', type: 'zone', parent: 'campus' },
    { id: 'teach-a', type: 'building', parent: 'north', use: 'teaching' },
    { id: 'teach-a-1f', type: 'floor', parent: 'teach-a' },
  ],
  meters: [{ id: 'pm-teach-a', node: 'teach-a', medium: 'power', tariff: 'grid' }],
  tariffs: { grid: { kind: 'tou', medium: 'power', periods: [{ from: '2026-01-01', to: '2026-12-31', slots: [{ from: '00:00', to: '08:00', band: 'valley' }, { from: '08:00', to: '24:00', band: 'flat' }], prices: { peak: 1, flat: 0.7, valley: 0.3 } }] } },
};

function errors(energy: unknown): string[] {
  try {
    parseHubConfig({ energy });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.errors;
    throw err;
  }
}

describe('energy config', () => {
  it('has defaults', () => {
    const e = parseHubConfig({}).energy;
    expect(e).toMatchObject({ utcOffsetHours: 8, nodes: [], meters: [], gapMinutes: 60, anomalies: { backfillAlarmDays: 7, maxQueryDays: 31 } });
    expect(errors(base)).toEqual([]);
  });

  it('names each problem with its path', () => {
    const bad = structuredClone(base) as any;
    bad.nodes.push({ id: 'orphan', type: 'building' }, { id: 'x', type: 'floor', parent: 'nowhere' });
    bad.meters.push({ id: 'wm-a', node: 'teach-a', medium: 'water', tariff: 'grid' }, { id: 'pm-teach-a', node: 'ghost', medium: 'power' });
    bad.virtualMeters = [{ id: 'loss', medium: 'power', plus: ['pm-teach-a'], minus: ['wm-a', 'nope'] }];
    bad.tariffs.grid.periods[0].slots[1].from = '09:00';
    bad.tariffs.water = { kind: 'tiered', medium: 'water', tiers: [{ upTo: 10, price: 3 }, { upTo: 5, price: 4 }, { upTo: 50, price: 5 }] };
    expect(errors(bad)).toEqual([
      '/energy/nodes/4/parent: required for a building',
      '/energy/nodes/5/parent: no node nowhere',
      '/energy/meters/1/tariff: grid is a power tariff, the meter measures water',
      '/energy/meters/2/id: duplicate meter pm-teach-a',
      '/energy/meters/2/node: no node ghost',
      '/energy/virtualMeters/0/minus/0: wm-a measures water, not power',
      '/energy/virtualMeters/0/minus/1: no physical meter nope',
      '/energy/tariffs/grid/periods/0/slots: no slot covers 08:00',
      '/energy/tariffs/water/tiers/1/upTo: must be above 10',
      '/energy/tariffs/water/tiers/2/upTo: the last tier has no upper bound',
    ]);
  });

  it('refuses slots off the 15-minute grid and unknown keys by schema', () => {
    const bad = structuredClone(base) as any;
    bad.tariffs.grid.periods[0].slots[0].to = '08:10';
    bad.colour = 'red';
    const e = errors(bad);
    expect(e.some((x) => x.startsWith('/energy/tariffs/grid/periods/0/slots/0/to'))).toBe(true);
    expect(e.some((x) => x.includes('colour'))).toBe(true);
  });
});
