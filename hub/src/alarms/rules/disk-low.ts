import type { AlarmRule } from '../types.ts';

/**
 * The hub's data dir is running out of space (the lifecycle module measures it with statfs and hands the engine
 * `hub.disk_low` / `hub.disk_ok` on the hub's pseudo-device `hub`, retention.minFreeBytes / minFreePercent):
 * raised before the disk is full, so someone frees space or shortens retention while ingest still works.
 */
export const diskLow: AlarmRule = {
  id: 'disk-low',
  types: ['hub.disk_low'],
  events: ['hub.disk_low', 'hub.disk_ok'],
  create(ctx) {
    return {
      onEvent(e) {
        if (e.type === 'hub.disk_low') ctx.raise({ type: 'hub.disk_low', device: e.device, gateway: 'hub', ts: e.ts, event: e, detail: e.data });
        else ctx.clear({ type: 'hub.disk_low', device: e.device, ts: e.ts });
      },
    };
  },
};
