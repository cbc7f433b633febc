import type { AlarmRule, AlarmType } from '../types.ts';

/** The hub-made events the energy watch hands to the engine (never accepted from a gateway: not contract event types). */
export const ENERGY_ANOMALY_EVENT = 'energy.anomaly';
export const ENERGY_NORMAL_EVENT = 'energy.normal';

const TYPES = ['energy.spike', 'energy.drop', 'energy.dropout', 'energy.flat', 'energy.missing', 'energy.night_base_load', 'energy.leak'] as const satisfies readonly AlarmType[];
const KNOWN = new Set<string>(TYPES);

/**
 * Energy alarms: the energy watch (hub/src/energy/watch.ts) runs the anomaly detector on each meter's hourly use as
 * data arrives and hands an `energy.anomaly` (kind, window, numbers, sentence) for each alert that is new or still
 * going, and `energy.normal` when it has ended. One open alarm per meter and kind: repeats fold into it (flood
 * control); the end marks its condition cleared (resolved by the hub when `alarms.autoResolve` lists the type).
 */
export const energyAnomaly: AlarmRule = {
  id: 'energy-anomaly',
  types: TYPES,
  events: [ENERGY_ANOMALY_EVENT, ENERGY_NORMAL_EVENT],
  create(ctx) {
    return {
      onEvent(e) {
        const type = `energy.${String(e.data.kind)}`;
        if (!KNOWN.has(type)) return;
        const f = { type: type as AlarmType, device: e.device, gateway: e.gateway, ts: e.ts, event: e };
        if (e.type === ENERGY_ANOMALY_EVENT) ctx.raise({ ...f, detail: e.data });
        else ctx.clear(f);
      },
    };
  },
};
