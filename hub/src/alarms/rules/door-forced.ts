import type { AlarmRule } from '../types.ts';

/** A door opened without a grant or a key (the controller reports door.forced); it clears when the door closes. */
export const doorForced: AlarmRule = {
  id: 'door-forced',
  types: ['door.forced'],
  events: ['door.forced', 'door.closed'],
  create: (ctx) => ({
    onEvent(e) {
      if (e.type === 'door.forced') ctx.raise({ type: 'door.forced', device: e.device, ts: e.ts, event: e, detail: e.data });
      else ctx.clear({ type: 'door.forced', device: e.device, ts: e.ts, event: e });
    },
  }),
};
