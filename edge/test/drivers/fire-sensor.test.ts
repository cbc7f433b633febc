import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { driverHarness } from '../helpers.ts';

describe('fire-sensor driver', () => {
  let h: ReturnType<typeof driverHarness>;
  beforeEach(() => (h = driverHarness('fire-sensor', {}, 'smoke-lib-3f')));
  afterEach(() => h.close());
  const topic = 'fire/smoke-lib-3f/state';
  const s = 1_764_388_800;
  const at = (sec: number) => ({ device: 'smoke-lib-3f', ts: sec * 1000 });
  const smoke = (sec: number, v: number) => ({ ...at(sec), kind: 'telemetry', metrics: { smoke_obscuration: v } });

  it('reports transitions, not heartbeats, and obscuration as telemetry', () => {
    expect(h.send(topic, { alarm: false, obscuration: 0.4, fault: null, ts: s })).toEqual([smoke(s, 0.4)]);
    expect(h.send(topic, { alarm: false, obscuration: 0.5, fault: null, ts: s + 30 })).toEqual([smoke(s + 30, 0.5)]);
    expect(h.send(topic, { alarm: true, obscuration: 4.2, fault: null, ts: s + 31 })).toEqual([
      { ...at(s + 31), kind: 'event', type: 'fire.alarm', data: { smoke: 4.2 } },
      smoke(s + 31, 4.2),
    ]);
    expect(h.send(topic, { alarm: true, obscuration: 5, fault: null, ts: s + 61 })).toEqual([smoke(s + 61, 5)]); // heartbeat during alarm
    expect(h.send(topic, { alarm: false, obscuration: 0.3, fault: null, ts: s + 90 })).toEqual([
      { ...at(s + 90), kind: 'event', type: 'fire.cleared', data: {} },
      smoke(s + 90, 0.3),
    ]);
    expect(h.send(topic, { alarm: false, fault: 'chamber dirty', ts: s + 120 })).toEqual([
      { ...at(s + 120), kind: 'event', type: 'fire.fault', data: { fault: 'chamber dirty' } },
    ]);
    expect(h.send(topic, { alarm: false, fault: 'chamber dirty', ts: s + 150 })).toEqual([]); // same fault again
    expect(h.send(topic, { alarm: false, fault: null, ts: s + 180 })).toEqual([]);
    expect(h.send(topic, { alarm: false, fault: 'low battery', ts: s + 210 })).toEqual([
      { ...at(s + 210), kind: 'event', type: 'fire.fault', data: { fault: 'low battery' } },
    ]);
  });

  it('reports an alarm already active when the agent starts', () => {
    expect(h.send(topic, { alarm: true, ts: s })).toEqual([{ ...at(s), kind: 'event', type: 'fire.alarm', data: {} }]);
  });

  it('supports no commands', () => {
    expect(() => h.encode('door.unlock', {})).toThrow(/does not support/);
  });

  it('refuses bad native payloads with a counted reason', () => {
    expect(h.send(topic, { alarm: 'yes' })).toEqual([]);
    expect(h.send(topic, { alarm: false, obscuration: -1 })).toEqual([]);
    expect(h.send(topic, { obscuration: 1 })).toEqual([]);
    expect(h.rejected('schema_invalid')).toBe(3);
    expect(h.send(topic, 'not json')).toEqual([]);
    expect(h.rejected('malformed_json')).toBe(1);
  });
});
