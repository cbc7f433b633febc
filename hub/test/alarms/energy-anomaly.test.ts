import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

const HOUR = 3_600_000;

describe('rule energy-anomaly', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());
  const anomaly = (kind: string, from: number, hours: number) =>
    h.event('meter-1', 'energy.anomaly', { kind, from, to: from + hours * HOUR, numbers: { actual: 900, expected: 300, ratio: 3 }, en: 'used 900 kWh against 300 usual', zh: '用量 900 千瓦时，通常 300' });

  it('raises one alarm per meter and kind with the numbers and the sentence, in the meter’s building', () => {
    anomaly('spike', h.now - HOUR, 1);
    const a = h.only('energy.spike');
    expect(a).toMatchObject({ device: 'meter-1', building: 'lib', priority: 'low', state: 'raised' });
    const raised = h.repo.timeline(a.id)[0]!;
    expect(raised.detail).toMatchObject({ kind: 'spike', numbers: { ratio: 3 }, en: expect.stringContaining('900 kWh') });
  });

  it('folds the hours of a continuing anomaly into the open alarm (flood control), kinds apart', () => {
    for (let i = 0; i < 5; i++) {
      anomaly('night_base_load', h.now - HOUR, 1 + i);
      h.advance(HOUR);
    }
    anomaly('leak', h.now - HOUR, 1);
    expect(h.all().map((a) => a.type).sort()).toEqual(['energy.leak', 'energy.night_base_load']);
    const a = h.only('energy.night_base_load');
    expect(a.count).toBe(5);
    expect(h.only('energy.leak').priority).toBe('medium');
  });

  it('energy.normal marks the condition cleared; auto-resolves when configured', async () => {
    anomaly('drop', h.now - HOUR, 1);
    h.event('meter-1', 'energy.normal', { kind: 'drop' });
    expect(h.only('energy.drop')).toMatchObject({ state: 'raised', conditionCleared: true });
    await h.close();
    h = await alarmHarness({ autoResolve: ['energy.drop'] });
    anomaly('drop', h.now - HOUR, 1);
    h.event('meter-1', 'energy.normal', { kind: 'drop' });
    expect(h.only('energy.drop')).toMatchObject({ state: 'resolved', conditionCleared: true });
  });

  it('ignores kinds it does not know', () => {
    anomaly('bogus', h.now - HOUR, 1);
    expect(h.all()).toEqual([]);
  });

  it('acknowledge, resolve and escalation', () => {
    anomaly('dropout', h.now - HOUR, 3);
    expectLifecycle(h, h.only('energy.dropout'));
  });
});
