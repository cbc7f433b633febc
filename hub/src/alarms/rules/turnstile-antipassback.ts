import type { AlarmRule } from '../types.ts';
import { boundWindow, SWEEP_MS } from '../window.ts';

/** Credentials tracked at most (a campus's population within one window); beyond it the oldest entries are dropped. */
export const ANTIPASSBACK_CAP = 100_000;

/**
 * Anti-passback: a credential entering twice without exiting in between (a card passed back to someone else).
 * Campus-wide per credential; after antiPassbackWindow a new entry starts afresh (exits through doors without
 * readers are never seen).
 *
 * Durable across a hub restart: only what the window needs is kept, the time of each credential's last entry not
 * yet followed by an exit (an exit deletes it). Writes go into the ingest batch's commit, coalesced per credential;
 * entries past the window are swept once a minute and the map is capped (ANTIPASSBACK_CAP).
 */
export const turnstileAntipassback: AlarmRule = {
  id: 'turnstile-antipassback',
  types: ['turnstile.antipassback'],
  events: ['turnstile.pass', 'access.granted'],
  create(ctx) {
    const windowMs = ctx.settings.durationMs(ctx.settings.raw.antiPassbackWindow);
    /** credential -> source time of its last entry without an exit since. */
    const lastIn = ctx.state<number>('lastIn');
    let swept = 0;
    return {
      onEvent(e) {
        const credential = typeof e.data.credential === 'string' ? e.data.credential : null;
        const direction = e.data.direction;
        if (!credential || (direction !== 'in' && direction !== 'out')) return;
        if (e.type === 'turnstile.pass' && e.data.granted !== true) return;
        if (direction === 'out') return lastIn.delete(credential);
        const prev = lastIn.get(credential);
        lastIn.set(credential, e.ts);
        if (prev !== undefined && e.ts - prev <= windowMs) {
          ctx.raise({ type: 'turnstile.antipassback', device: e.device, credential, ts: e.ts, event: e, detail: { previousEntryAt: prev } });
        }
        if (lastIn.size > ANTIPASSBACK_CAP) boundWindow(lastIn, (t) => t, (t) => e.ts - t > windowMs, ANTIPASSBACK_CAP);
      },
      tick(now) {
        if (now - swept < SWEEP_MS) return;
        swept = now;
        boundWindow(lastIn, (t) => t, (t) => now - t > windowMs, ANTIPASSBACK_CAP);
      },
    };
  },
};
