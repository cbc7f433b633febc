import type { AlarmRule } from '../types.ts';

/**
 * A camera tampered with (lens covered or sprayed, turned away, defocused): attackers blind cameras
 * first. Latching like intrusion tamper; the camera reporting the scene back to normal marks the
 * condition cleared, a person still resolves it.
 */
export const cameraTamper: AlarmRule = {
  id: 'camera-tamper',
  types: ['camera.tamper'],
  events: ['camera.tamper'],
  create: (ctx) => ({
    onEvent(e) {
      if (e.type !== 'camera.tamper') return;
      if (e.data.state) ctx.raise({ type: 'camera.tamper', device: e.device, ts: e.ts, event: e });
      else ctx.clear({ type: 'camera.tamper', device: e.device, ts: e.ts, event: e });
    },
  }),
};
