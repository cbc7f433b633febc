import type { AlarmRule } from '../types.ts';

/** Kinds whose silence is a life-safety "trouble", not a plain offline device. */
const TROUBLE_KINDS = new Set(['fire_sensor', 'camera']);

/**
 * Lost communication: device.offline not followed by device.online within offlineDebounceSeconds (source time),
 * so a flapping link does not page anyone. device.online clears it.
 */
export const deviceOffline: AlarmRule = {
  id: 'device-offline',
  types: ['device.offline', 'device.trouble'],
  events: ['device.offline', 'device.online'],
  create(ctx) {
    const debounceMs = ctx.settings.raw.offlineDebounceSeconds * 1000;
    // Durable: a device that went offline just before a hub restart is still alarmed when its debounce ends.
    const pending = ctx.state<{ due: number; since: number; eventId: string; reason: unknown }>('pending');
    const typeOf = (device: string) => (TROUBLE_KINDS.has(ctx.device(device)?.kind ?? '') ? 'device.trouble' : 'device.offline');
    const fire = (device: string, p: { since: number; eventId: string; reason: unknown }) =>
      ctx.raise({ type: typeOf(device), device, ts: p.since, detail: { offlineSince: p.since, offlineEvent: p.eventId, reason: p.reason ?? null } });
    return {
      onEvent(e) {
        if (e.type === 'device.offline') {
          if (pending.has(e.device)) return;
          const p = { due: e.ts + debounceMs, since: e.ts, eventId: e.id, reason: e.data.reason ?? null };
          if (debounceMs === 0) fire(e.device, p);
          else pending.set(e.device, p);
        } else {
          pending.delete(e.device);
          ctx.clear({ type: typeOf(e.device), device: e.device, ts: e.ts, event: e });
        }
      },
      tick(now) {
        for (const [device, p] of pending) {
          if (now < p.due) continue;
          pending.delete(device);
          fire(device, p);
        }
      },
    };
  },
};
