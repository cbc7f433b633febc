import type { AlarmRule } from '../types.ts';

/** An emergency call post pressed (latching: emergency.cleared only marks the condition cleared). */
export const emergencyCall: AlarmRule = {
  id: 'emergency-call',
  types: ['emergency.call'],
  events: ['emergency.call', 'emergency.cleared'],
  create: (ctx) => ({
    onEvent(e) {
      if (e.type === 'emergency.call') ctx.raise({ type: 'emergency.call', device: e.device, ts: e.ts, event: e, detail: e.data });
      else ctx.clear({ type: 'emergency.call', device: e.device, ts: e.ts, event: e });
    },
  }),
};
