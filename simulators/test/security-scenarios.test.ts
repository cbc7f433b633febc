import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadScenario, runScenario } from '../src/index.ts';
import { SCENARIO_DIR } from '../src/cli.ts';
import { record, silent, startBroker, type Recorder, type TestBroker } from './helpers.ts';
import { assertNative } from './native-formats.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.close();
});

/** Plays a shipped scenario at speed 200 against a real broker; every timeline action must succeed. */
async function play(name: string, check: (rec: Recorder) => Promise<unknown>): Promise<void> {
  const rec = await record(broker.url);
  const s = loadScenario(join(SCENARIO_DIR, `${name}.yaml`), { env: { WARDEN_FIELD_URL: broker.url } });
  const failures: string[] = [];
  const running = await runScenario(s, { speed: 200, logger: silent, onAction: (e, err) => err && failures.push(`${e.device} ${e.do}: ${err.message}`) });
  try {
    await running.done;
    expect(failures).toEqual([]);
    await check(rec);
  } finally {
    await running.stop();
    assertNative(rec.messages);
    await rec.close();
  }
}

describe('security scenarios (issue 4)', () => {
  it('tailgating-burst: tailgates, a jump and one card entering twice', () =>
    play('tailgating-burst', async (rec) => {
      await rec.waitForCount((m) => m.topic === 'gate/gate-lib-1/pass' && m.json.auth === false, 3, 'three tailgaters');
      await rec.waitFor((m) => m.topic === 'gate/gate-lib-2/pass' && m.json.auth === false, 'jump');
      const twice = await rec.waitForCount((m) => m.topic === 'gate/gate-lib-2/pass' && m.json.card === '0012349876', 2, 'passback');
      expect(twice.map((m) => m.json.dir)).toEqual(['IN', 'IN']);
    }));

  it('emergency-post: two posts pressed, the first reset', () =>
    play('emergency-post', async (rec) => {
      await rec.waitFor((m) => m.topic === 'sos/sos-sports-1' && m.json.btn === 'PRESSED', 'post 1 pressed');
      await rec.waitFor((m) => m.topic === 'sos/sos-sports-2' && m.json.btn === 'PRESSED', 'post 2 pressed');
      await rec.waitFor((m) => m.topic === 'sos/sos-sports-1' && m.json.btn === 'RESET', 'post 1 reset');
      expect(rec.on('sos/sos-sports-2').some((m) => m.json.btn === 'RESET')).toBe(false);
    }));

  it('intrusion-zone: alarm, tamper, disarm, restore, re-arm; the other zone stays normal', () =>
    play('intrusion-zone', async (rec) => {
      await rec.waitFor((m) => m.topic === 'ias/ias-admin-fin-z1/zone' && m.json.status === 'ALARM', 'alarm');
      await rec.waitFor((m) => m.topic === 'ias/ias-admin-fin-z1/zone' && m.json.status === 'TAMPER', 'tamper');
      await rec.waitForCount((m) => m.topic === 'ias/ias-admin-fin-z1/arm', 3, 'armed at connect, disarmed, re-armed');
      expect(rec.on('ias/ias-admin-fin-z2/zone').every((m) => m.json.status === 'NORMAL')).toBe(true);
    }));

  it('fire-drill: both detectors in alarm, then cleared', () =>
    play('fire-drill', async (rec) => {
      for (const id of ['smoke-teach-a-3f-1', 'smoke-teach-a-3f-2']) await rec.waitFor((m) => m.topic === `fire/${id}/state` && m.json.alarm === true, `${id} alarm`);
      const alarmAt = rec.messages.findIndex((m) => m.topic === 'fire/smoke-teach-a-3f-1/state' && m.json.alarm === true);
      await rec.waitFor((m) => m.topic === 'fire/smoke-teach-a-3f-1/state' && m.json.alarm === false && rec.messages.indexOf(m) > alarmAt, 'cleared');
    }));

  it('gateway-outage: its timeline runs on a live broker (the outage itself is the edge process stopping)', () =>
    play('gateway-outage', async (rec) => {
      await rec.waitFor((m) => m.topic === 'acs/door-dorm-3-1/event' && m.json.event === 'FORCED_OPEN', 'forced door after the outage');
      await rec.waitFor((m) => m.topic === 'gate/gate-dorm-3-1/pass' && m.json.auth === false, 'tailgate during the outage');
    }));
});
