import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOW, driverHarness } from '../helpers.ts';

describe('intrusion-zone driver', () => {
  let h: ReturnType<typeof driverHarness>;
  beforeEach(() => (h = driverHarness('intrusion-zone', {}, 'ias-lab-z3')));
  afterEach(() => h.close());
  const ev = (type: string, data: object) => ({ device: 'ias-lab-z3', ts: NOW, kind: 'event', type, data });

  it('decodes zone states and arming', () => {
    expect(h.send('ias/ias-lab-z3/zone', { zone: 'Z3', status: 'ALARM' })).toEqual([ev('intrusion.alarm', { zone: 'Z3' })]);
    expect(h.send('ias/ias-lab-z3/zone', { zone: 'Z3', status: 'TAMPER' })).toEqual([ev('intrusion.tamper', {})]);
    expect(h.send('ias/ias-lab-z3/zone', { zone: 'Z3', status: 'NORMAL' })).toEqual([]);
    expect(h.send('ias/ias-lab-z3/arm', { armed: true, user: 'guard01' })).toEqual([ev('intrusion.armed', {})]);
    expect(h.send('ias/ias-lab-z3/arm', { armed: false, user: 'guard01' })).toEqual([ev('intrusion.disarmed', { by: 'guard01' })]);
    expect(h.rejected('schema_invalid') + h.rejected('malformed_json')).toBe(0);
  });

  it('encodes arm / disarm and maps the reply', () => {
    expect(h.encode('intrusion.arm', {}, 'CMDREF020')).toEqual({ topic: 'ias/ias-lab-z3/cmd', payload: { cmd: 'ARM', ref: 'CMDREF020' } });
    expect(h.encode('intrusion.disarm', {}, 'CMDREF021')).toEqual({ topic: 'ias/ias-lab-z3/cmd', payload: { cmd: 'DISARM', ref: 'CMDREF021' } });
    h.send('ias/ias-lab-z3/cmd/reply', { ref: 'CMDREF021', ok: false, err: 'zone open' });
    expect(h.replies).toEqual([{ ref: 'CMDREF021', ok: false, error: 'zone open' }]);
  });

  it('refuses bad native payloads with a counted reason', () => {
    expect(h.send('ias/ias-lab-z3/zone', { zone: 'Z3', status: 'BURGLAR' })).toEqual([]);
    expect(h.send('ias/ias-lab-z3/arm', { armed: 'true' })).toEqual([]);
    expect(h.send('ias/ias-lab-z3/cmd/reply', { ok: true })).toEqual([]);
    expect(h.rejected('schema_invalid')).toBe(3);
  });
});
