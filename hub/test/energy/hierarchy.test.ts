import { describe, expect, it } from 'vitest';
import { parseHubConfig } from '../../src/config.ts';
import { buildTree, combine, formulaFor, nodeFormula } from '../../src/energy/hierarchy.ts';

const cfg = parseHubConfig({
  energy: {
    nodes: [
      { id: 'campus', type: 'campus' },
      { id: 'north', type: 'zone', parent: 'campus' },
      { id: 'teach-a', type: 'building', parent: 'north' },
      { id: 'teach-a-1f', type: 'floor', parent: 'teach-a' },
      { id: 'teach-a-2f', type: 'floor', parent: 'teach-a' },
      { id: 'dorm-1', type: 'building', parent: 'north' },
      { id: 'dorm-1-101', type: 'dorm', parent: 'dorm-1' },
    ],
    meters: [
      { id: 'pm-a', node: 'teach-a', medium: 'power' },
      { id: 'pm-a-1f', node: 'teach-a-1f', medium: 'power' },
      { id: 'pm-a-2f', node: 'teach-a-2f', medium: 'power' },
      { id: 'pm-d-101', node: 'dorm-1-101', medium: 'power' },
      { id: 'wm-d', node: 'dorm-1', medium: 'water' },
    ],
    virtualMeters: [{ id: 'loss-a', node: 'teach-a', medium: 'power', plus: ['pm-a'], minus: ['pm-a-1f', 'pm-a-2f'] }],
  },
}).energy;

describe('energy hierarchy', () => {
  it('builds campus → zone → building → floor/dorm → meters, virtual meters marked', () => {
    const tree = buildTree(cfg)!;
    expect(tree.id).toBe('campus');
    const a = tree.children[0]!.children.find((c) => c.id === 'teach-a')!;
    expect(a.meters.map((m) => [m.id, m.virtual, m.unit])).toEqual([['pm-a', false, 'kWh'], ['loss-a', true, 'kWh']]);
    expect(a.children.map((c) => c.id)).toEqual(['teach-a-1f', 'teach-a-2f']);
  });

  it('a node uses its own main meter, else the sum of its children (no double counting)', () => {
    expect(nodeFormula(cfg, 'teach-a', 'power')).toEqual({ plus: ['pm-a'], minus: [] });
    expect(nodeFormula(cfg, 'campus', 'power')).toEqual({ plus: ['pm-a', 'pm-d-101'], minus: [] });
    expect(nodeFormula(cfg, 'campus', 'water')).toEqual({ plus: ['wm-d'], minus: [] });
  });

  it('a virtual meter is a difference: building minus sub-meters = losses', () => {
    const f = formulaFor(cfg, 'loss-a')!;
    expect(f.kind).toBe('virtual');
    const series = new Map([
      ['pm-a', new Map([[0, 10], [1, 12]])],
      ['pm-a-1f', new Map([[0, 4], [1, 5]])],
      ['pm-a-2f', new Map([[0, 5]])],
    ]);
    expect([...combine(f.formula, series)]).toEqual([[0, 1], [1, 7]]);
  });
});
