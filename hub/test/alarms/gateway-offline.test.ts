import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule gateway-offline', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness({ offlineDebounceSeconds: 30, autoResolve: ['gateway.offline'] })));
  afterEach(() => h.close());
  const gw = (online: boolean) => h.engine.gatewayChanged({ id: 'gw-1', online, lastSeen: h.now, backlog: null });

  it('raises when a gateway stays lost past the debounce', () => {
    gw(false);
    h.advance(29_000);
    expect(h.all()).toEqual([]);
    h.advance(1_000);
    expect(h.only('gateway.offline')).toMatchObject({ device: 'gw-1', priority: 'high', firstAt: h.now - 30_000 });
  });

  it('stays quiet on a reconnect within the debounce and on status heartbeats', () => {
    for (let i = 0; i < 5; i++) {
      gw(false);
      h.advance(5_000);
      gw(true);
      h.advance(60_000);
    }
    expect(h.all()).toEqual([]);
  });

  it('auto-resolves when it comes back, if configured', () => {
    gw(false);
    h.advance(30_000);
    gw(true);
    expect(h.only('gateway.offline')).toMatchObject({ state: 'resolved', conditionCleared: true });
  });

  it('acknowledge, resolve and escalation', () => {
    gw(false);
    h.advance(30_000);
    expectLifecycle(h, h.only('gateway.offline'));
  });
});
