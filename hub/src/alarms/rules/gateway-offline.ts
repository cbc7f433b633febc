import type { AlarmRule } from '../types.ts';

/**
 * A building gateway lost to the hub (last will or disconnect) and not back within offlineDebounceSeconds: every
 * device behind it is out of reach. The engine feeds the hub's gateway status in as gateway.offline/online.
 */
export const gatewayOffline: AlarmRule = {
  id: 'gateway-offline',
  types: ['gateway.offline'],
  events: ['gateway.offline', 'gateway.online'],
  create(ctx) {
    const debounceMs = ctx.settings.raw.offlineDebounceSeconds * 1000;
    const pending = ctx.state<number>('pending');
    const fire = (gw: string, since: number) => ctx.raise({ type: 'gateway.offline', device: gw, gateway: gw, ts: since, detail: { offlineSince: since } });
    return {
      onEvent(e) {
        if (e.type === 'gateway.offline') {
          if (pending.has(e.device)) return;
          if (debounceMs === 0) fire(e.device, e.ts);
          else pending.set(e.device, e.ts);
        } else {
          pending.delete(e.device);
          ctx.clear({ type: 'gateway.offline', device: e.device, ts: e.ts });
        }
      },
      tick(now) {
        for (const [gw, since] of pending) {
          if (now - since < debounceMs) continue;
          pending.delete(gw);
          fire(gw, since);
        }
      },
    };
  },
};
