import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOW, driverHarness } from '../helpers.ts';

describe('relay-actuator driver', () => {
  let h: ReturnType<typeof driverHarness>;
  beforeEach(() => (h = driverHarness('relay-actuator', {}, 'light-lib-1f')));
  afterEach(() => h.close());

  it('decodes state reports', () => {
    expect(h.send('relay/light-lib-1f/state', { on: true, level: 80 })).toEqual([
      { device: 'light-lib-1f', ts: NOW, kind: 'event', type: 'actuator.state', data: { on: true, level: 80 } },
    ]);
    expect(h.send('relay/light-lib-1f/state', { on: false })).toEqual([
      { device: 'light-lib-1f', ts: NOW, kind: 'event', type: 'actuator.state', data: { on: false } },
    ]);
  });

  it('encodes actuator.set and maps its reply', () => {
    expect(h.encode('actuator.set', { on: true, level: 40 }, 'CMDREF030')).toEqual({
      topic: 'relay/light-lib-1f/set',
      payload: { on: true, level: 40, ref: 'CMDREF030' },
    });
    expect(h.encode('actuator.set', { on: false }, 'CMDREF031').payload).toEqual({ on: false, ref: 'CMDREF031' });
    h.send('relay/light-lib-1f/set/reply', { ref: 'CMDREF031', ok: true });
    expect(h.replies).toEqual([{ ref: 'CMDREF031', ok: true, error: undefined }]);
  });

  it('refuses bad native payloads with a counted reason', () => {
    expect(h.send('relay/light-lib-1f/state', { on: true, level: 150 })).toEqual([]);
    expect(h.send('relay/light-lib-1f/state', { level: 10 })).toEqual([]);
    expect(h.rejected('schema_invalid')).toBe(2);
  });
});
