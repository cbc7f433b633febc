import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOW, driverHarness } from '../helpers.ts';

describe('turnstile driver', () => {
  let h: ReturnType<typeof driverHarness>;
  beforeEach(() => (h = driverHarness('turnstile', {}, 'gate-n1')));
  afterEach(() => h.close());
  const t = 1_764_388_800_000;

  it('decodes passages and mode reports', () => {
    expect(h.send('gate/gate-n1/pass', { dir: 'IN', card: '0099', auth: true, t })).toEqual([
      { device: 'gate-n1', ts: t, kind: 'event', type: 'turnstile.pass', data: { direction: 'in', credential: '0099', granted: true } },
    ]);
    expect(h.send('gate/gate-n1/pass', { dir: 'OUT', auth: false })).toEqual([
      { device: 'gate-n1', ts: NOW, kind: 'event', type: 'turnstile.pass', data: { direction: 'out', granted: false } },
    ]);
    expect(h.send('gate/gate-n1/mode', { mode: 'FREE' })).toEqual([{ device: 'gate-n1', ts: NOW, kind: 'event', type: 'turnstile.mode', data: { mode: 'free' } }]);
  });

  it('encodes set_mode and maps its reply', () => {
    expect(h.encode('turnstile.set_mode', { mode: 'locked' }, 'CMDREF010')).toEqual({ topic: 'gate/gate-n1/set', payload: { mode: 'LOCKED', ref: 'CMDREF010' } });
    h.send('gate/gate-n1/set/reply', { ref: 'CMDREF010', ok: true });
    h.send('gate/gate-n1/set/reply', { ref: 'CMDREF011', ok: false, err: 'motor fault' });
    expect(h.replies).toEqual([
      { ref: 'CMDREF010', ok: true, error: undefined },
      { ref: 'CMDREF011', ok: false, error: 'motor fault' },
    ]);
  });

  it('refuses bad native payloads with a counted reason', () => {
    expect(h.send('gate/gate-n1/pass', { dir: 'SIDEWAYS', auth: true })).toEqual([]);
    expect(h.send('gate/gate-n1/pass', { dir: 'IN' })).toEqual([]);
    expect(h.send('gate/gate-n1/mode', { mode: 'normal' })).toEqual([]);
    expect(h.rejected('schema_invalid')).toBe(3);
    expect(h.send('gate/gate-n1/pass', 'IN')).toEqual([]);
    expect(h.rejected('malformed_json')).toBe(1);
  });
});
