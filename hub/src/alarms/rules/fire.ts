import type { AlarmRule } from '../types.ts';

/** Smoke or fire alarm (latching: fire.cleared only marks the condition cleared), and fire-system faults as trouble. */
export const fire: AlarmRule = {
  id: 'fire',
  types: ['fire.alarm', 'fire.trouble'],
  events: ['fire.alarm', 'fire.cleared', 'fire.fault'],
  create: (ctx) => ({
    onEvent(e) {
      if (e.type === 'fire.alarm') ctx.raise({ type: 'fire.alarm', device: e.device, ts: e.ts, event: e, detail: e.data });
      else if (e.type === 'fire.cleared') ctx.clear({ type: 'fire.alarm', device: e.device, ts: e.ts, event: e });
      else ctx.raise({ type: 'fire.trouble', device: e.device, ts: e.ts, event: e, detail: e.data });
    },
  }),
};
