import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type SimDevice } from '../src/index.ts';
import type { DeviceSpec } from '../src/device.ts';
import { doorEvents, record, silent, startBroker, type Recorder, type TestBroker } from './helpers.ts';
import { assertNative } from './native-formats.ts';

let broker: TestBroker;
let rec: Recorder;
const started: SimDevice[] = [];

beforeAll(async () => {
  broker = await startBroker();
  rec = await record(broker.url);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((d) => d.stop()));
});
afterAll(async () => {
  // Everything the devices said during the whole file, checked against FIELD-PROTOCOLS.md.
  assertNative(rec.messages);
  await rec.close();
  await broker.close();
});

/** speed 100: a door passage of a few simulated seconds takes tens of milliseconds. */
async function start(spec: DeviceSpec, speed = 100): Promise<SimDevice> {
  const d = await startDevice(spec, { url: broker.url, speed, logger: silent });
  started.push(d);
  return d;
}
const quiet = (o: Record<string, unknown> = {}) => ({ behave: false, ...o });

describe('door controller', () => {
  it('announces itself online (retained) and runs a granted passage in order', async () => {
    const door = await start({ id: 'door-t1', type: 'door-controller', options: quiet() });
    const online = await rec.waitFor((m) => m.topic === 'avail/door-t1', 'online');
    expect(online.text).toBe('online');
    await door.act('pass', '0012345678');
    await rec.waitFor((m) => m.topic === 'acs/door-t1/event' && m.json.event === 'LOCKED', 'LOCKED');
    expect(doorEvents(rec, 'door-t1')).toEqual(['CARD_GRANTED', 'UNLOCKED', 'DOOR_OPEN', 'DOOR_CLOSE', 'LOCKED']);
    const granted = rec.on('acs/door-t1/event')[0]!.json;
    expect(granted).toMatchObject({ event: 'CARD_GRANTED', door: 1, card: '0012345678' });
    expect(door.state()).toMatchObject({ locked: true, open: false, mode: 'normal' });
  });

  it('force opens without a grant; holdOpen raises HELD_OPEN past the threshold; deniedBurst repeats one card', async () => {
    const door = await start({ id: 'door-t2', type: 'door-controller', options: quiet({ heldAfterS: 20, door: 2 }) });
    await door.act('force', 3);
    await rec.waitFor((m) => m.topic === 'acs/door-t2/event' && m.json.event === 'DOOR_CLOSE', 'close after force');
    expect(doorEvents(rec, 'door-t2')).toEqual(['FORCED_OPEN', 'DOOR_CLOSE']);

    await door.act('holdOpen', 40);
    const held = await rec.waitFor((m) => m.topic === 'acs/door-t2/event' && m.json.event === 'HELD_OPEN', 'HELD_OPEN');
    expect(held.json).toMatchObject({ door: 2, held_s: 20 });
    await rec.waitFor((m) => m.topic === 'acs/door-t2/event' && m.json.event === 'LOCKED', 'relock after hold');

    await door.act('deniedBurst', 4);
    const denied = await rec.waitForCount((m) => m.topic === 'acs/door-t2/event' && m.json.event === 'CARD_DENIED', 4, 'denied');
    expect(new Set(denied.map((m) => m.json.card)).size).toBe(1);
    expect(denied.every((m) => typeof m.json.reason === 'string')).toBe(true);
  });

  it('rejects unknown actions and bad arguments with a clear error', async () => {
    const door = await start({ id: 'door-t3', type: 'door-controller', options: quiet() });
    await expect(door.act('explode')).rejects.toThrow(/no action "explode".*force/);
    await expect(door.act('force', 'soon')).rejects.toThrow(/seconds must be a non-negative number/);
  });

  it('lets people through on its own when behaving', async () => {
    await start({ id: 'door-t4', type: 'door-controller', options: { meanIntervalS: 5, profile: 'always', denyRate: 0.2 } }, 200);
    await rec.waitForCount((m) => m.topic === 'acs/door-t4/event' && /^CARD_/.test(m.json.event as string), 3, 'autonomous card events');
  });
});

describe('turnstile', () => {
  it('reports its mode on connect; pass, tailgate and jump have the documented auth flags', async () => {
    const gate = await start({ id: 'gate-t1', type: 'turnstile', options: quiet() });
    await rec.waitFor((m) => m.topic === 'gate/gate-t1/mode', 'mode report');
    expect(rec.on('gate/gate-t1/mode')[0]!.json).toEqual({ mode: 'NORMAL' });
    await gate.act('pass', 'IN');
    await gate.act('tailgate', 'OUT');
    await gate.act('jump', 'in');
    const passes = await rec.waitForCount((m) => m.topic === 'gate/gate-t1/pass', 4, 'passes');
    expect(passes.map((m) => [m.json.dir, m.json.auth])).toEqual([
      ['IN', true],
      ['OUT', true],
      ['OUT', false],
      ['IN', false],
    ]);
    expect(passes[0]!.json.card).toMatch(/^\d{10}$/);
    expect(passes[2]!.json.card).toBeUndefined();
    await expect(gate.act('pass', 'UP')).rejects.toThrow(/IN or OUT/);
  });

  it('passback: one card enters twice with no exit between', async () => {
    const gate = await start({ id: 'gate-t3', type: 'turnstile', options: quiet() });
    await rec.waitFor((m) => m.topic === 'gate/gate-t3/mode', 'mode report');
    await gate.act('passback', '0099887766');
    const passes = await rec.waitForCount((m) => m.topic === 'gate/gate-t3/pass', 2, 'passes');
    expect(passes.map((m) => [m.json.dir, m.json.card, m.json.auth])).toEqual([
      ['IN', '0099887766', true],
      ['IN', '0099887766', true],
    ]);
  });

  it('passes people through on its own when behaving', async () => {
    await start({ id: 'gate-t2', type: 'turnstile', options: { meanIntervalS: 2, profile: 'always' } }, 200);
    await rec.waitForCount((m) => m.topic === 'gate/gate-t2/pass', 5, 'autonomous passes');
  });
});

describe('fire detector', () => {
  it('reports state on connect and as a heartbeat with a small noisy obscuration', async () => {
    await start({ id: 'smoke-t1', type: 'fire-sensor' }, 300);
    const beats = await rec.waitForCount((m) => m.topic === 'fire/smoke-t1/state', 4, 'heartbeats');
    for (const b of beats) {
      expect(b.json).toMatchObject({ alarm: false, fault: null });
      expect(b.json.obscuration).toBeGreaterThanOrEqual(0);
      expect(b.json.obscuration).toBeLessThan(1);
    }
  });

  it('alarm, fault and clear change the reported state at once', async () => {
    const smoke = await start({ id: 'smoke-t2', type: 'fire-sensor', options: quiet() });
    await rec.waitFor((m) => m.topic === 'fire/smoke-t2/state', 'boot state');
    await smoke.act('alarm', 9);
    await smoke.act('fault', 'head_removed');
    await smoke.act('clear');
    const states = (await rec.waitForCount((m) => m.topic === 'fire/smoke-t2/state', 4, 'states')).map((m) => m.json);
    expect(states[1]).toMatchObject({ alarm: true, fault: null });
    expect(states[1]!.obscuration).toBeGreaterThan(5);
    expect(states[2]).toMatchObject({ alarm: true, fault: 'head_removed' });
    expect(states[3]).toMatchObject({ alarm: false, fault: null });
    expect(states[3]!.obscuration).toBeLessThan(1);
  });
});

describe('emergency post', () => {
  it('press and reset', async () => {
    const sos = await start({ id: 'sos-t1', type: 'emergency-post', options: quiet() });
    await sos.act('press');
    await sos.act('reset');
    const msgs = await rec.waitForCount((m) => m.topic === 'sos/sos-t1', 2, 'sos');
    expect(msgs.map((m) => m.json)).toEqual([
      { btn: 'PRESSED', button: 'front' },
      { btn: 'RESET', button: 'front' },
    ]);
    expect(sos.state()).toMatchObject({ pressed: false, presses: 1 });
  });
});

describe('intrusion zone', () => {
  it('reports arming and zone on connect; alarm, disarm, tamper, arm', async () => {
    const ias = await start({ id: 'ias-t1', type: 'intrusion-zone', options: quiet({ zone: 'Z3' }) });
    await rec.waitFor((m) => m.topic === 'ias/ias-t1/zone', 'boot zone');
    expect(rec.on('ias/ias-t1/arm')[0]!.json).toEqual({ armed: true, user: 'guard01' });
    await ias.act('alarm');
    await ias.act('disarm', 'guard07');
    await expect(ias.act('alarm')).rejects.toThrow(/disarmed/);
    await ias.act('tamper');
    await expect(ias.act('arm')).rejects.toThrow(/not ready \(TAMPER\)/);
    await ias.act('restore');
    await ias.act('arm');
    await rec.waitForCount((m) => m.topic === 'ias/ias-t1/arm', 3, 'arm reports');
    expect(rec.on('ias/ias-t1/zone').map((m) => m.json.status)).toEqual(['NORMAL', 'ALARM', 'NORMAL', 'TAMPER', 'NORMAL']);
    expect(rec.on('ias/ias-t1/zone').every((m) => m.json.zone === 'Z3')).toBe(true);
    expect(rec.on('ias/ias-t1/arm').map((m) => [m.json.armed, m.json.user])).toEqual([
      [true, 'guard01'],
      [false, 'guard07'],
      [true, 'guard01'],
    ]);
  });
});

describe('meter', () => {
  it('publishes readings whose register never decreases (power and water)', async () => {
    // speed 6000: a reading every 10 ms covers a simulated minute, so 40 readings cross 40 minutes of load curve.
    await start({ id: 'meter-t1', type: 'meter', options: { medium: 'power', intervalS: 60, profile: 'dorm' } }, 6000);
    await start({ id: 'meter-t2', type: 'meter', options: { medium: 'water', intervalS: 60, profile: 'dorm', noise: 0.5 } }, 6000);
    for (const id of ['meter-t1', 'meter-t2']) {
      const readings = (await rec.waitForCount((m) => m.topic === `meter/${id}/reading`, 40, `${id} readings`)).map((m) => m.json);
      for (let i = 1; i < readings.length; i++) expect(readings[i]!.total as number).toBeGreaterThanOrEqual(readings[i - 1]!.total as number);
      expect(readings.at(-1)!.total as number).toBeGreaterThan(readings[0]!.total as number);
      expect(readings.every((r) => (r.instant as number) >= 0)).toBe(true);
    }
  });

  it('read publishes at once; a leak raises the draw and fix ends it', async () => {
    const m = await start({ id: 'meter-t3', type: 'meter', options: quiet({ medium: 'water', peak: 2, noise: 0, initialTotal: 100 }) });
    await m.act('read');
    const first = await rec.waitFor((x) => x.topic === 'meter/meter-t3/reading', 'reading');
    expect(first.json.total).toBeGreaterThanOrEqual(100);
    await m.act('leak', 5);
    await m.act('read');
    const [, second] = await rec.waitForCount((x) => x.topic === 'meter/meter-t3/reading', 2, 'second reading');
    expect(second!.json.instant as number).toBeGreaterThanOrEqual(5);
    await m.act('fix');
    expect(m.state().extra).toBe(0);
  });
});

describe('relay actuator', () => {
  it('reports state on connect and on a wall-switch flip', async () => {
    const relay = await start({ id: 'relay-t1', type: 'relay-actuator', options: quiet({ on: true, level: 60 }) });
    await rec.waitFor((m) => m.topic === 'relay/relay-t1/state', 'boot state');
    await relay.act('toggle');
    await relay.act('set', { on: true, level: 30 });
    await expect(relay.act('set', { on: 'yes' })).rejects.toThrow(/on must be true or false/);
    const states = await rec.waitForCount((m) => m.topic === 'relay/relay-t1/state', 3, 'states');
    expect(states.map((m) => m.json)).toEqual([
      { on: true, level: 60 },
      { on: false, level: 60 },
      { on: true, level: 30 },
    ]);
  });
});

describe('options', () => {
  it('refuses bad options with their path', async () => {
    const err = await startDevice({ id: 'door-bad', type: 'door-controller', options: { denyRate: 2, colour: 'red' } }, { url: broker.url, logger: silent }).catch((e: Error) => e);
    expect((err as Error).message).toContain('/options/denyRate: must be <= 1');
    expect((err as Error).message).toContain('/options: must not have additional properties (colour)');
    await expect(startDevice({ id: 'x-1', type: 'toaster' }, { url: broker.url, logger: silent })).rejects.toThrow(/unknown device type "toaster"/);
  });
});
