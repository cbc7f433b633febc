import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOW, driverHarness } from '../helpers.ts';

describe('door-controller driver', () => {
  let h: ReturnType<typeof driverHarness>;
  beforeEach(() => (h = driverHarness('door-controller', { unlockSeconds: 7 }, 'door-lib-1')));
  afterEach(() => h.close());
  const at = '2026-11-29T03:59:58.000Z';
  const ts = Date.parse(at);
  const ev = (type: string, data: object, t = ts) => ({ device: 'door-lib-1', ts: t, kind: 'event', type, data });

  it('decodes every native door event', () => {
    const t = 'acs/door-lib-1/event';
    expect(h.send(t, { event: 'DOOR_OPEN', door: 1, time: at })).toEqual([ev('door.opened', { door: 1 })]);
    expect(h.send(t, { event: 'DOOR_CLOSE', door: 2, time: at })).toEqual([ev('door.closed', { door: 2 })]);
    expect(h.send(t, { event: 'FORCED_OPEN', door: 1, time: at })).toEqual([ev('door.forced', { door: 1 })]);
    expect(h.send(t, { event: 'HELD_OPEN', door: 1, held_s: 45, time: at })).toEqual([ev('door.held_open', { door: 1, seconds: 45 })]);
    expect(h.send(t, { event: 'CARD_GRANTED', door: 1, card: '0012345678', time: at })).toEqual([
      ev('access.granted', { method: 'card', credential: '0012345678' }),
    ]);
    expect(h.send(t, { event: 'CARD_DENIED', card: '0012345678', reason: 'expired', time: at })).toEqual([
      ev('access.denied', { method: 'card', credential: '0012345678', reason: 'expired' }),
    ]);
    expect(h.send(t, { event: 'UNLOCKED', door: 1, time: at })).toEqual([ev('door.unlocked', { door: 1 })]);
    expect(h.send(t, { event: 'LOCKED' })).toEqual([ev('door.locked', {}, NOW)]); // no time: gateway time
  });

  it('encodes every door command', () => {
    expect(h.encode('door.unlock', { seconds: 3 }, 'CMDREF001')).toEqual({ topic: 'acs/door-lib-1/control', payload: { op: 'UNLOCK', seconds: 3, ref: 'CMDREF001' } });
    expect(h.encode('door.unlock', {}, 'CMDREF002').payload).toEqual({ op: 'UNLOCK', seconds: 7, ref: 'CMDREF002' }); // option default
    expect(h.encode('door.lock', {}, 'CMDREF003').payload).toEqual({ op: 'LOCK', ref: 'CMDREF003' });
    expect(h.encode('door.hold_open', {}, 'CMDREF004').payload).toEqual({ op: 'HOLD_OPEN', ref: 'CMDREF004' });
    expect(h.encode('door.normal', {}, 'CMDREF005').payload).toEqual({ op: 'NORMAL', ref: 'CMDREF005' });
  });

  it('maps native replies to command results', () => {
    expect(h.send('acs/door-lib-1/control/reply', { ref: 'CMDREF001', result: 'OK' })).toEqual([]);
    h.send('acs/door-lib-1/control/reply', { ref: 'CMDREF002', result: 'ERROR', msg: 'lock jammed' });
    h.send('acs/door-lib-1/control/reply', { ref: 'CMDREF003', result: 'ERROR' });
    expect(h.replies).toEqual([
      { ref: 'CMDREF001', ok: true, error: undefined },
      { ref: 'CMDREF002', ok: false, error: 'lock jammed' },
      { ref: 'CMDREF003', ok: false, error: 'device reported ERROR' },
    ]);
  });

  it('refuses bad native payloads with a counted reason', () => {
    const t = 'acs/door-lib-1/event';
    expect(h.send(t, '{"event":')).toEqual([]);
    expect(h.rejected('malformed_json')).toBe(1);
    expect(h.send(t, { event: 'EXPLODED' })).toEqual([]);
    expect(h.send(t, { event: 'DOOR_OPEN', door: 0 })).toEqual([]);
    expect(h.send(t, { event: 'HELD_OPEN', door: 1 })).toEqual([]); // contract needs the duration
    expect(h.send(t, { event: 'CARD_DENIED', card: '1' })).toEqual([]); // contract needs a reason
    expect(h.send(t, { event: 'DOOR_OPEN', time: 'yesterday' })).toEqual([]);
    expect(h.rejected('schema_invalid')).toBe(5);
    expect(h.send('acs/door-lib-1/status', { ok: true })).toEqual([]);
    expect(h.rejected('unknown_topic')).toBe(1);
  });

  it('uses gateway time when the device clock is implausible', () => {
    expect(h.send('acs/door-lib-1/event', { event: 'DOOR_OPEN', time: '1970-01-01T00:00:05.000Z' })).toEqual([ev('door.opened', {}, NOW)]);
    expect(h.metrics.get('records.clock_fallback')).toBe(1);
  });
});
