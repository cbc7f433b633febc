import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOW, driverHarness } from '../helpers.ts';

describe('emergency-post driver', () => {
  let h: ReturnType<typeof driverHarness>;
  beforeEach(() => (h = driverHarness('emergency-post', {}, 'sos-gate-e')));
  afterEach(() => h.close());

  it('decodes press and reset', () => {
    expect(h.send('sos/sos-gate-e', { btn: 'PRESSED', button: 'front' })).toEqual([
      { device: 'sos-gate-e', ts: NOW, kind: 'event', type: 'emergency.call', data: { button: 'front' } },
    ]);
    expect(h.send('sos/sos-gate-e', { btn: 'PRESSED' })).toEqual([{ device: 'sos-gate-e', ts: NOW, kind: 'event', type: 'emergency.call', data: {} }]);
    expect(h.send('sos/sos-gate-e', { btn: 'RESET' })).toEqual([{ device: 'sos-gate-e', ts: NOW, kind: 'event', type: 'emergency.cleared', data: {} }]);
  });

  it('refuses bad native payloads with a counted reason', () => {
    expect(h.send('sos/sos-gate-e', { btn: 'HELD' })).toEqual([]);
    expect(h.send('sos/sos-gate-e', { btn: 'PRESSED', button: '' })).toEqual([]);
    expect(h.rejected('schema_invalid')).toBe(2);
    expect(h.send('sos/sos-gate-e', '')).toEqual([]);
    expect(h.rejected('malformed_json')).toBe(1);
  });
});
