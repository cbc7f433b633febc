import type { AlarmRule } from '../types.ts';

/**
 * Someone went through a turnstile without a grant (the turnstile reports a pass with granted:false).
 * Stateless: each pass is judged on its own, so a hub restart loses nothing.
 */
export const turnstileTailgating: AlarmRule = {
  id: 'turnstile-tailgating',
  types: ['turnstile.tailgating'],
  events: ['turnstile.pass'],
  create: (ctx) => ({
    onEvent(e) {
      if (e.data.granted === false) ctx.raise({ type: 'turnstile.tailgating', device: e.device, ts: e.ts, event: e, detail: { direction: e.data.direction } });
    },
  }),
};
