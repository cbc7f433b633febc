import type { FaceResult } from '@warden/models';
import type { Emission } from '../driver.ts';
import type { GalleryPerson, Match } from './gallery.ts';

export type PointMode = 'access' | 'dorm' | 'trajectory';

/** What one face point decides with; from the face-terminal device's options. */
export interface PointPolicy {
  mode: PointMode;
  threshold: number;
  direction: 'in' | 'out';
  /** Minimum antispoof "real" score at access and dorm points (0 = not checked). */
  minReal: number;
}

/** What the terminal is told (`face/{id}/result`), and whether the door opens. */
export type Result = 'GRANT' | 'DENY' | 'CHECKIN' | 'SIGHTING' | 'STRANGER' | 'WATCHLIST' | 'NO_FACE' | 'RETRY';

export interface Decision {
  result: Result;
  open: boolean;
  person?: string;
  score?: number;
  reason?: string;
  emissions: Emission[];
}

const round = (s: number) => Math.round(Math.max(-1, Math.min(1, s)) * 10000) / 10000;

/** A card or QR code presented instead of a face: the alternative every face point accepts. */
export function decideCredential(policy: PointPolicy, method: 'card' | 'qr', credential: string, owner: GalleryPerson | undefined): Decision {
  if (!owner) return { result: 'DENY', open: false, reason: 'unknown_credential', emissions: [{ kind: 'event', type: 'access.denied', data: { method, credential, reason: 'unknown_credential' } }] };
  if (owner.watchlist) {
    return { result: 'DENY', open: false, person: owner.id, reason: 'watchlist', emissions: [{ kind: 'event', type: 'access.denied', data: { method, credential, person: owner.id, reason: 'watchlist' } }] };
  }
  if (policy.mode === 'dorm') {
    return { result: 'CHECKIN', open: true, person: owner.id, emissions: [{ kind: 'event', type: 'attendance.checkin', data: { method, credential, person: owner.id, direction: policy.direction } }] };
  }
  return { result: 'GRANT', open: policy.mode === 'access', person: owner.id, emissions: [{ kind: 'event', type: 'access.granted', data: { method, credential, person: owner.id } }] };
}

/**
 * The decision for one face at a point. At access and dorm points only the largest face counts (the one at
 * the terminal); trajectory points report every face. A face that fails the quality gate decides nothing
 * (the terminal asks for another frame) so a blurred frame is never reported as a stranger.
 */
export function decideFace(policy: PointPolicy, face: FaceResult | undefined, match: Match | undefined): Decision {
  if (!face) return { result: 'NO_FACE', open: false, emissions: [] };
  if (!face.quality.ok || !face.embedding) return { result: 'RETRY', open: false, reason: face.quality.reasons.join(','), emissions: [] };
  const guarded = policy.mode !== 'trajectory';
  if (guarded && policy.minReal > 0 && face.liveness && face.liveness.real < policy.minReal) {
    return { result: 'DENY', open: false, reason: 'spoof_suspected', emissions: [{ kind: 'event', type: 'access.denied', data: { method: 'face', reason: 'spoof_suspected' } }] };
  }
  if (!match || match.score < policy.threshold) {
    const score = match ? round(match.score) : undefined;
    const stranger: Emission = { kind: 'event', type: 'face.stranger', data: score === undefined ? {} : { score } };
    if (!guarded) return { result: 'STRANGER', open: false, score, emissions: [stranger] };
    return { result: 'DENY', open: false, score, reason: 'no_match', emissions: [{ kind: 'event', type: 'access.denied', data: { method: 'face', reason: 'no_match' } }, stranger] };
  }
  const person = match.person;
  const score = round(match.score);
  if (match.watchlist) {
    const hit: Emission = { kind: 'event', type: 'face.watchlist', data: { person, score } };
    if (!guarded) return { result: 'WATCHLIST', open: false, person, score, emissions: [hit] };
    return { result: 'WATCHLIST', open: false, person, score, reason: 'watchlist', emissions: [{ kind: 'event', type: 'access.denied', data: { method: 'face', person, reason: 'watchlist' } }, hit] };
  }
  switch (policy.mode) {
    case 'access':
      return { result: 'GRANT', open: true, person, score, emissions: [{ kind: 'event', type: 'access.granted', data: { method: 'face', person } }] };
    case 'dorm':
      return { result: 'CHECKIN', open: true, person, score, emissions: [{ kind: 'event', type: 'attendance.checkin', data: { method: 'face', person, direction: policy.direction, score } }] };
    case 'trajectory':
      return { result: 'SIGHTING', open: false, person, score, emissions: [{ kind: 'event', type: 'face.sighting', data: { person, score } }] };
  }
}
