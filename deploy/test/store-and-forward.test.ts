import { afterAll, describe, expect, it } from 'vitest';
import { FaultCampus } from './faults-campus.ts';

const DOORS = ['door-sf-1', 'door-sf-2', 'door-sf-3', 'door-sf-4'];
const PER_DOOR = 2500; // 10,000 events per round

/**
 * Store and forward across process boundaries: the hub stopped while 10,000 events are generated,
 * then the edge agent SIGKILLed mid-stream. Checked on the hub's own database: every event stored
 * exactly once, and each device's events in the order the device sent them.
 */
describe('store and forward', () => {
  let campus: FaultCampus | undefined;
  afterAll(() => campus?.close());

  it('keeps 10,000 events through a hub outage, then through an edge SIGKILL, exactly once and in order', { timeout: 240_000 }, async () => {
    campus = await FaultCampus.create('gw-sf', DOORS);
    const hub = await campus.startHub();
    let edge = await campus.startEdge();
    await campus.connectDevices();

    // Round 1: the hub is down while the devices send 10,000 events; they queue in the gateway's outbox.
    await campus.stop(hub);
    await campus.burst(0, PER_DOOR);
    campus.start(['hub', '--config', campus.site.layout.hubConfig]);
    await campus.storedAll(PER_DOOR * DOORS.length, 120_000);
    campus.expectExactlyOnceInOrder(PER_DOOR);

    // Round 2: the edge agent is SIGKILLed mid-stream and restarted from the same config and outbox.
    let acked = 0;
    let killed: Promise<void> | undefined;
    await campus.burst(PER_DOOR, PER_DOOR, () => {
      if (++acked === 3000) {
        killed = (async () => {
          await campus!.stop(edge, 'SIGKILL');
          edge = await campus!.startEdge({}, false);
        })();
      }
    });
    await killed;
    expect(acked).toBe(PER_DOOR * DOORS.length);
    await campus.storedAll(2 * PER_DOOR * DOORS.length, 120_000);
    campus.expectExactlyOnceInOrder(2 * PER_DOOR);
  });
});
