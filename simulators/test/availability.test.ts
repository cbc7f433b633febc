import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { record, silent, startBroker, type TestBroker } from './helpers.ts';
import { startDevice } from '../src/index.ts';

let broker: TestBroker;
let secured: TestBroker;

beforeAll(async () => {
  broker = await startBroker();
  // A gateway that requires field credentials: username = device id, password = the device's secret.
  const secrets: Record<string, string> = { 'door-s1': 's3cret' };
  secured = await startBroker({
    authenticate: (client, username, password, done) => {
      const ok = username === client.id && password !== undefined && secrets[client.id] === password.toString();
      done(ok ? null : Object.assign(new Error('bad credentials'), { returnCode: 4 as const }), ok);
    },
  });
});
afterAll(async () => {
  await broker.close();
  await secured.close();
});

/** What a gateway that subscribes now would learn about a device's availability (the retained value). */
async function retainedAvail(url: string, id: string): Promise<string> {
  const probe = await record(url, [`avail/${id}`]);
  try {
    return (await probe.waitFor((m) => m.retain, 'retained availability')).text;
  } finally {
    await probe.close();
  }
}

describe('availability', () => {
  it('dropOff fires the last will; events wait in the buffer and arrive after comeBack', async () => {
    const rec = await record(broker.url);
    const gate = await startDevice({ id: 'gate-a1', type: 'turnstile', options: { behave: false } }, { url: broker.url, logger: silent });
    await rec.waitFor((m) => m.topic === 'avail/gate-a1' && m.text === 'online', 'online');

    await gate.act('dropOff');
    await rec.waitFor((m) => m.topic === 'avail/gate-a1' && m.text === 'offline', 'last will');
    expect(await retainedAvail(broker.url, 'gate-a1')).toBe('offline');
    expect(gate.state()).toMatchObject({ connected: false, dropped: true });

    await gate.act('pass', 'IN');
    await gate.act('jump', 'OUT');
    expect(rec.on('gate/gate-a1/pass')).toHaveLength(0);

    await gate.act('comeBack');
    const passes = await rec.waitForCount((m) => m.topic === 'gate/gate-a1/pass', 2, 'buffered passes');
    expect(passes.map((m) => m.json.dir)).toEqual(['IN', 'OUT']);
    expect(await retainedAvail(broker.url, 'gate-a1')).toBe('online');
    // The will is broker-side: only the abrupt drop produced it, comeBack announced online again.
    expect(rec.on('avail/gate-a1').map((m) => m.text)).toEqual(['online', 'offline', 'online']);

    await gate.stop();
    await rec.close();
  });

  it('stop() leaves a retained offline behind, so the gateway does not believe a stopped device is online', async () => {
    const sos = await startDevice({ id: 'sos-a1', type: 'emergency-post' }, { url: broker.url, logger: silent });
    expect(await retainedAvail(broker.url, 'sos-a1')).toBe('online');
    await sos.stop();
    expect(await retainedAvail(broker.url, 'sos-a1')).toBe('offline');
    await expect(sos.act('press')).rejects.toThrow(/stopped/);
  });

  it('autonomous behaviour pauses while dropped off', async () => {
    const rec = await record(broker.url, ['fire/smoke-a1/state']);
    const smoke = await startDevice({ id: 'smoke-a1', type: 'fire-sensor', options: { heartbeatS: 30 } }, { url: broker.url, speed: 600, logger: silent });
    await rec.waitForCount(() => true, 3, 'heartbeats');
    await smoke.act('dropOff');
    const during = rec.messages.length;
    // 20 heartbeat periods pass while the detector is off the network...
    await new Promise((r) => setTimeout(r, 1000));
    await smoke.act('comeBack');
    await rec.waitForCount(() => true, during + 1, 'state after comeBack');
    // ...and none of them is replayed: only the boot report (and maybe one fresh beat) follows.
    expect(rec.messages.length - during).toBeLessThanOrEqual(2);
    await smoke.stop();
    await rec.close();
  });
});

describe('field credentials', () => {
  it('connects with username = id and its secret', async () => {
    const door = await startDevice({ id: 'door-s1', type: 'door-controller', options: { behave: false } }, { url: secured.url, password: 's3cret', logger: silent });
    expect(door.connected).toBe(true);
    await door.stop();
  });

  it('fails loudly on a wrong secret instead of retrying for ever', async () => {
    await expect(
      startDevice({ id: 'door-s1', type: 'door-controller', options: { behave: false } }, { url: secured.url, password: 'wrong', logger: silent }),
    ).rejects.toThrow(/door-s1: the field broker at mqtt:\/\/127\.0\.0\.1:\d+ refused the connection/);
  });
});
