import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOW, driverHarness } from '../helpers.ts';

// Decisions themselves are tested through the agent (test/face/offline-decision.test.ts); here only the
// protocol: what a capture turns into when the gateway has no face service, commands and replies.
describe('face-terminal driver', () => {
  let h: ReturnType<typeof driverHarness>;
  beforeEach(() => (h = driverHarness('face-terminal', { mode: 'access', door: 'door-1' }, 'face-lab-1')));
  afterEach(() => h.close());

  it('without face decisions on the gateway, a capture is reported as denied (visible, not silently dropped)', () => {
    expect(h.send('face/face-lab-1/capture', { card: '0012345678' })).toEqual([
      { device: 'face-lab-1', ts: NOW, kind: 'event', type: 'access.denied', data: { method: 'card', credential: '0012345678', reason: 'face decisions are not enabled on this gateway' } },
    ]);
    expect(h.send('face/face-lab-1/capture', { image: '/9j/4AAQSkZJRg==', t: NOW - 1000 })).toEqual([
      { device: 'face-lab-1', ts: NOW - 1000, kind: 'event', type: 'access.denied', data: { method: 'face', reason: 'face decisions are not enabled on this gateway' } },
    ]);
  });

  it('encodes door.unlock / door.lock for the terminal’s own lock and maps the reply', () => {
    expect(h.encode('door.unlock', {}, 'CMDREF100')).toEqual({ topic: 'face/face-lab-1/control', payload: { op: 'UNLOCK', seconds: 5, ref: 'CMDREF100' } });
    expect(h.encode('door.lock', {}, 'CMDREF101')).toEqual({ topic: 'face/face-lab-1/control', payload: { op: 'LOCK', ref: 'CMDREF101' } });
    h.send('face/face-lab-1/control/reply', { ref: 'CMDREF101', ok: false, err: 'lock jammed' });
    expect(h.replies).toEqual([{ ref: 'CMDREF101', ok: false, error: 'lock jammed' }]);
  });

  it('refuses bad captures with a counted reason', () => {
    expect(h.send('face/face-lab-1/capture', { image: 'not base64!' })).toEqual([]);
    expect(h.send('face/face-lab-1/capture', { image: 'QUJD', extra: 1 })).toEqual([]);
    expect(h.send('face/face-lab-1/capture', { image: 'A'.repeat(350_004) })).toEqual([]);
    expect(h.rejected('schema_invalid')).toBe(3);
  });
});
