import { describe, expect, it } from 'vitest';
import type { FaceResult } from '@warden/models';
import { decideCredential, decideFace, type PointPolicy } from '../../src/face/decide.ts';

const policy = (mode: PointPolicy['mode'], extra: Partial<PointPolicy> = {}): PointPolicy => ({ mode, threshold: 0.92, direction: 'in', minReal: 0, ...extra });

function face(over: { ok?: boolean; reasons?: string[]; real?: number } = {}): FaceResult {
  return {
    box: { x: 0, y: 0, width: 100, height: 100 },
    keypoints: [],
    score: 0.95,
    quality: { ok: over.ok ?? true, reasons: (over.reasons ?? []) as FaceResult['quality']['reasons'], eyeDistance: 40, sharpness: 100, yaw: 0, rollDeg: 0, pitch: 0.7, score: 0.95 },
    liveness: { real: over.real ?? 0.8, live: 0.9 },
    embedding: over.ok === false ? null : new Float32Array(128),
  };
}

const known = { person: 'student-7', score: 0.95, watchlist: false };
const wanted = { person: 'watch-1', score: 0.96, watchlist: true };
const weak = { person: 'student-7', score: 0.9, watchlist: false };

describe('face decisions per point', () => {
  it('access: a known face opens; below the threshold is denied and a stranger; a watch-list match never opens', () => {
    expect(decideFace(policy('access'), face(), known)).toMatchObject({ result: 'GRANT', open: true, emissions: [{ type: 'access.granted', data: { method: 'face', person: 'student-7' } }] });
    const denied = decideFace(policy('access'), face(), weak);
    expect(denied).toMatchObject({ result: 'DENY', open: false, reason: 'no_match', score: 0.9 });
    expect(denied.emissions.map((e) => (e.kind === 'event' ? e.type : ''))).toEqual(['access.denied', 'face.stranger']);
    const hit = decideFace(policy('access'), face(), wanted);
    expect(hit).toMatchObject({ result: 'WATCHLIST', open: false });
    expect(hit.emissions.map((e) => (e.kind === 'event' ? e.type : ''))).toEqual(['access.denied', 'face.watchlist']);
    expect(decideFace(policy('access'), face(), undefined)).toMatchObject({ result: 'DENY', reason: 'no_match', emissions: [{ type: 'access.denied' }, { type: 'face.stranger', data: {} }] });
  });

  it('the threshold is the point’s own', () => {
    expect(decideFace(policy('access', { threshold: 0.89 }), face(), weak).result).toBe('GRANT');
    expect(decideFace(policy('access', { threshold: 0.96 }), face(), known).result).toBe('DENY');
  });

  it('dorm: a check-in with the point’s direction and the score', () => {
    expect(decideFace(policy('dorm', { direction: 'out' }), face(), known)).toMatchObject({
      result: 'CHECKIN',
      open: true,
      emissions: [{ type: 'attendance.checkin', data: { method: 'face', person: 'student-7', direction: 'out', score: 0.95 } }],
    });
  });

  it('trajectory: sightings, strangers and watch-list hits, never a door', () => {
    expect(decideFace(policy('trajectory'), face(), known)).toMatchObject({ result: 'SIGHTING', open: false, emissions: [{ type: 'face.sighting', data: { person: 'student-7', score: 0.95 } }] });
    expect(decideFace(policy('trajectory'), face(), weak)).toMatchObject({ result: 'STRANGER', emissions: [{ type: 'face.stranger', data: { score: 0.9 } }] });
    expect(decideFace(policy('trajectory'), face(), wanted)).toMatchObject({ result: 'WATCHLIST', emissions: [{ type: 'face.watchlist', data: { person: 'watch-1', score: 0.96 } }] });
  });

  it('a frame failing the quality gate asks for another and records nothing; no face is NO_FACE', () => {
    expect(decideFace(policy('access'), face({ ok: false, reasons: ['blurry', 'pose_yaw'] }), undefined)).toEqual({ result: 'RETRY', open: false, reason: 'blurry,pose_yaw', emissions: [] });
    expect(decideFace(policy('access'), undefined, undefined)).toEqual({ result: 'NO_FACE', open: false, emissions: [] });
  });

  it('antispoof minimum at guarded points only', () => {
    expect(decideFace(policy('access', { minReal: 0.5 }), face({ real: 0.3 }), known)).toMatchObject({ result: 'DENY', reason: 'spoof_suspected' });
    expect(decideFace(policy('access', { minReal: 0.5 }), face({ real: 0.6 }), known).result).toBe('GRANT');
    expect(decideFace(policy('trajectory', { minReal: 0.5 }), face({ real: 0.3 }), known).result).toBe('SIGHTING');
  });

  it('card or QR is the alternative at every point', () => {
    const owner = { id: 'student-7', watchlist: false, credentials: ['C1'] };
    expect(decideCredential(policy('access'), 'card', 'C1', owner)).toMatchObject({ result: 'GRANT', open: true, emissions: [{ type: 'access.granted', data: { method: 'card', credential: 'C1', person: 'student-7' } }] });
    expect(decideCredential(policy('dorm'), 'qr', 'C1', owner)).toMatchObject({ result: 'CHECKIN', emissions: [{ type: 'attendance.checkin', data: { method: 'qr', direction: 'in' } }] });
    expect(decideCredential(policy('access'), 'card', 'C9', undefined)).toMatchObject({ result: 'DENY', reason: 'unknown_credential' });
    expect(decideCredential(policy('access'), 'card', 'C1', { ...owner, watchlist: true })).toMatchObject({ result: 'DENY', reason: 'watchlist' });
  });
});
