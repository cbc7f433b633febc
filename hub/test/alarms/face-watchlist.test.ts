import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmHarness, expectLifecycle, type Harness } from './harness.ts';

describe('rule face-watchlist', () => {
  let h: Harness;
  beforeEach(async () => (h = await alarmHarness()));
  afterEach(() => h.close());

  it('raises a high alarm naming the watch-listed person and the match score at the point that saw them', () => {
    h.event('cam-1', 'face.watchlist', { person: 'p-42', score: 0.71 });
    expect(h.only('face.watchlist')).toMatchObject({ priority: 'high', latching: false, state: 'raised', zone: 'lib-1f', device: 'cam-1' });
    const raised = h.repo.timeline(h.only('face.watchlist').id)[0]!;
    expect(raised).toMatchObject({ kind: 'raised', detail: { person: 'p-42', score: 0.71 } });
  });

  it('stays quiet on ordinary sightings and strangers', () => {
    h.event('cam-2', 'face.sighting', { person: 'p-1', score: 0.8 });
    h.event('cam-2', 'face.stranger', { score: 0.2 });
    expect(h.all()).toEqual([]);
  });

  it('acknowledge, resolve and escalation', () => {
    h.event('cam-2', 'face.watchlist', { person: 'p-42', score: 0.66 });
    expectLifecycle(h, h.only('face.watchlist'));
  });
});
