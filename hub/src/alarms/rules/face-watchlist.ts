import type { AlarmRule } from '../types.ts';

/**
 * A watch-listed person recognised at a face point (access gate, trajectory point or dorm terminal): security
 * must know at once where the person is. Not latching: one alarm per sighting, folded by the engine's flood
 * control when the same person passes the same point repeatedly.
 */
export const faceWatchlist: AlarmRule = {
  id: 'face-watchlist',
  types: ['face.watchlist'],
  events: ['face.watchlist'],
  create: (ctx) => ({
    onEvent(e) {
      if (e.type !== 'face.watchlist') return;
      ctx.raise({ type: 'face.watchlist', device: e.device, ts: e.ts, event: e, detail: { person: e.data.person, score: e.data.score } });
    },
  }),
};
