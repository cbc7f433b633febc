import type { AlarmRule } from '../types.ts';

/**
 * Anti-passback: a credential entering twice without exiting in between (a card passed back to someone else).
 * Campus-wide per credential; after antiPassbackWindow a new entry starts afresh (exits through doors without
 * readers are never seen).
 */
export const turnstileAntipassback: AlarmRule = {
  id: 'turnstile-antipassback',
  types: ['turnstile.antipassback'],
  events: ['turnstile.pass', 'access.granted'],
  create(ctx) {
    const windowMs = ctx.settings.durationMs(ctx.settings.raw.antiPassbackWindow);
    const last = new Map<string, { direction: string; ts: number }>();
    return {
      onEvent(e) {
        const credential = typeof e.data.credential === 'string' ? e.data.credential : null;
        const direction = e.data.direction;
        if (!credential || (direction !== 'in' && direction !== 'out')) return;
        if (e.type === 'turnstile.pass' && e.data.granted !== true) return;
        const prev = last.get(credential);
        last.set(credential, { direction, ts: e.ts });
        if (direction === 'in' && prev?.direction === 'in' && e.ts - prev.ts <= windowMs) {
          ctx.raise({ type: 'turnstile.antipassback', device: e.device, credential, ts: e.ts, event: e, detail: { previousEntryAt: prev.ts } });
        }
      },
    };
  },
};
