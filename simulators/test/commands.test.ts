import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simRegistry, startDevice, type SimDevice } from '../src/index.ts';
import { doorEvents, record, silent, startBroker, type Recorder, type TestBroker } from './helpers.ts';
import { assertNative } from './native-formats.ts';

let broker: TestBroker;
let rec: Recorder;
const devices: SimDevice[] = [];

beforeAll(async () => {
  broker = await startBroker();
  rec = await record(broker.url);
  const specs = [
    { id: 'door-c1', type: 'door-controller' },
    { id: 'gate-c1', type: 'turnstile' },
    { id: 'relay-c1', type: 'relay-actuator' },
    { id: 'ias-c1', type: 'intrusion-zone' },
  ];
  for (const s of specs) devices.push(await startDevice({ ...s, options: { behave: false } }, { url: broker.url, speed: 100, logger: silent }));
});
afterAll(async () => {
  assertNative(rec.messages);
  await Promise.all(devices.map((d) => d.stop()));
  await rec.close();
  await broker.close();
});

const device = (id: string): SimDevice => devices.find((d) => d.id === id)!;

/** Sends a command as the gateway would and returns the device's reply carrying the same ref. */
async function command(topic: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ref = `ref-${Math.random().toString(36).slice(2)}`;
  await rec.send(topic, { ...body, ref });
  return (await rec.waitFor((m) => m.topic === `${topic}/reply` && m.json.ref === ref, `reply to ${ref}`)).json;
}

describe('door controller commands', () => {
  it('HOLD_OPEN releases until NORMAL; UNLOCK releases for a while; LOCK locks; replies carry the ref', async () => {
    expect(await command('acs/door-c1/control', { op: 'HOLD_OPEN' })).toMatchObject({ result: 'OK' });
    expect(device('door-c1').state()).toMatchObject({ mode: 'hold_open', locked: false });
    await expect(device('door-c1').act('force')).rejects.toThrow(/held open by command/);

    expect(await command('acs/door-c1/control', { op: 'NORMAL' })).toMatchObject({ result: 'OK' });
    expect(device('door-c1').state()).toMatchObject({ mode: 'normal', locked: true });

    expect(await command('acs/door-c1/control', { op: 'UNLOCK', seconds: 2 })).toMatchObject({ result: 'OK' });
    // The controller relocks by itself when the release time is over.
    await rec.waitForCount((m) => m.topic === 'acs/door-c1/event' && m.json.event === 'LOCKED', 2, 'relock');

    await command('acs/door-c1/control', { op: 'UNLOCK', seconds: 600 });
    expect(device('door-c1').state()).toMatchObject({ locked: false });
    expect(await command('acs/door-c1/control', { op: 'LOCK' })).toEqual(expect.objectContaining({ result: 'OK' }));
    expect(device('door-c1').state()).toMatchObject({ locked: true });
    expect(doorEvents(rec, 'door-c1')).toEqual(['UNLOCKED', 'LOCKED', 'UNLOCKED', 'LOCKED', 'UNLOCKED', 'LOCKED']);
  });

  it('answers ERROR with a message for an unknown op or bad seconds', async () => {
    const bad = await command('acs/door-c1/control', { op: 'EXPLODE' });
    expect(bad).toMatchObject({ result: 'ERROR' });
    expect(bad.msg).toMatch(/unknown op "EXPLODE"/);
    expect(await command('acs/door-c1/control', { op: 'UNLOCK', seconds: 0 })).toMatchObject({ result: 'ERROR', msg: expect.stringMatching(/1 to 3600/) });
  });
});

describe('turnstile commands', () => {
  it('set changes the mode, reports it and replies ok; a bad mode gets ok:false with err', async () => {
    expect(await command('gate/gate-c1/set', { mode: 'FREE' })).toEqual(expect.objectContaining({ ok: true }));
    await rec.waitFor((m) => m.topic === 'gate/gate-c1/mode' && m.json.mode === 'FREE', 'FREE report');
    expect(device('gate-c1').state()).toMatchObject({ mode: 'FREE' });
    expect(await command('gate/gate-c1/set', { mode: 'LOCKED' })).toMatchObject({ ok: true });
    await expect(device('gate-c1').act('pass')).rejects.toThrow(/LOCKED/);
    const bad = await command('gate/gate-c1/set', { mode: 'OPEN_SESAME' });
    expect(bad).toMatchObject({ ok: false });
    expect(bad.err).toMatch(/NORMAL, FREE, LOCKED/);
    expect(device('gate-c1').state()).toMatchObject({ mode: 'LOCKED' });
  });
});

describe('relay commands', () => {
  it('set switches and dims, reports the state and replies ok', async () => {
    expect(await command('relay/relay-c1/set', { on: true, level: 80 })).toMatchObject({ ok: true });
    await rec.waitFor((m) => m.topic === 'relay/relay-c1/state' && m.json.on === true && m.json.level === 80, 'state on 80');
    expect(await command('relay/relay-c1/set', { on: true, level: 150 })).toMatchObject({ ok: false, err: expect.stringMatching(/0 to 100/) });
    expect(device('relay-c1').state()).toMatchObject({ on: true, level: 80 });
  });
});

describe('intrusion commands', () => {
  it('DISARM and ARM change the arming and reply; ARM is refused while a zone is not ready', async () => {
    expect(await command('ias/ias-c1/cmd', { cmd: 'DISARM' })).toMatchObject({ ok: true });
    await rec.waitFor((m) => m.topic === 'ias/ias-c1/arm' && m.json.armed === false, 'disarmed report');
    await device('ias-c1').act('tamper');
    expect(await command('ias/ias-c1/cmd', { cmd: 'ARM' })).toMatchObject({ ok: false, err: expect.stringMatching(/not ready/) });
    await device('ias-c1').act('restore');
    expect(await command('ias/ias-c1/cmd', { cmd: 'ARM' })).toMatchObject({ ok: true });
    expect(device('ias-c1').state()).toMatchObject({ armed: true, status: 'NORMAL' });
    expect(rec.on('ias/ias-c1/arm').at(-1)!.json).toEqual({ armed: true, user: 'remote' });
  });
});

describe('bad commands', () => {
  it('counts malformed or unanswerable commands and keeps working', async () => {
    const before = await simRegistry.getSingleMetric('warden_sim_bad_commands_total')!.get();
    const count = (v: typeof before, reason: string): number =>
      v.values.filter((x) => x.labels.reason === reason && x.labels.type === 'door-controller').reduce((n, x) => n + x.value, 0);
    await rec.send('acs/door-c1/control', '{not json');
    await rec.send('acs/door-c1/control', { op: 'LOCK' });
    await rec.send('acs/door-c1/control', [1, 2]);
    // The device still answers the next good command, and said nothing to the bad ones.
    expect(await command('acs/door-c1/control', { op: 'LOCK' })).toMatchObject({ result: 'OK' });
    const after = await simRegistry.getSingleMetric('warden_sim_bad_commands_total')!.get();
    expect(count(after, 'malformed_json') - count(before, 'malformed_json')).toBe(1);
    expect(count(after, 'schema_invalid') - count(before, 'schema_invalid')).toBe(2);
    expect(rec.on('acs/door-c1/control/reply').every((m) => typeof m.json.ref === 'string' && m.json.ref.startsWith('ref-'))).toBe(true);
  });
});
