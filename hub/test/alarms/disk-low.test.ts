import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule disk-low', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  const low = { dataDir: '/var/lib/warden', freeBytes: 500_000_000, totalBytes: 100_000_000_000, minFreeBytes: 1_073_741_824, minFreePercent: 10 };

  it('raises hub.disk_low (high) on the hub pseudo-device, one alarm while it lasts, cleared when space returns', () => {
    h.event('hub', 'hub.disk_low', low);
    h.event('hub', 'hub.disk_low', { ...low, freeBytes: 400_000_000 });
    const a = h.only('hub.disk_low');
    expect(a).toMatchObject({ type: 'hub.disk_low', priority: 'high', device: 'hub', gateway: 'hub' });
    expect(h.open()).toHaveLength(1);
    h.event('hub', 'hub.disk_ok', { ...low, freeBytes: 50_000_000_000 });
    expect(h.open().filter((x) => x.state === 'raised' && !x.conditionCleared)).toHaveLength(0);
  });

  it('acknowledge, resolve and escalation', () => {
    h.event('hub', 'hub.disk_low', low);
    expectLifecycle(h, h.only('hub.disk_low'));
  });
});
