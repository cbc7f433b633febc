import type { AlarmRule } from '../types.ts';

/** Intrusion zone alarm and tamper, both latching; disarming the zone marks the intrusion condition cleared. */
export const intrusion: AlarmRule = {
  id: 'intrusion',
  types: ['intrusion.alarm', 'intrusion.tamper'],
  events: ['intrusion.alarm', 'intrusion.tamper', 'intrusion.disarmed'],
  create: (ctx) => ({
    onEvent(e) {
      if (e.type === 'intrusion.alarm') ctx.raise({ type: 'intrusion.alarm', device: e.device, ts: e.ts, event: e, detail: e.data });
      else if (e.type === 'intrusion.tamper') ctx.raise({ type: 'intrusion.tamper', device: e.device, ts: e.ts, event: e });
      else ctx.clear({ type: 'intrusion.alarm', device: e.device, ts: e.ts, event: e });
    },
  }),
};
