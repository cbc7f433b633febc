import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { api } from './helpers.ts';
import { FaultCampus } from './faults-campus.ts';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const DOORS = ['door-cs-1', 'door-cs-2'];
const PER_DOOR = 100;
const MIN = 60_000;

/** The edge's clock `minutes` off the hub's, on top of the shift the whole suite may run under (npm run test:ahead/behind). */
function skewed(minutes: number): NodeJS.ProcessEnv {
  const suiteShift = Number(process.env.WARDEN_TEST_CLOCK_SHIFT_DAYS ?? 0) * 1440;
  const total = suiteShift + minutes;
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: `${total >= 0 ? '+' : ''}${total}m`, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
}

/**
 * Fault injection (issue 13): the gateway's clock 10 minutes ahead of the hub's, then 10 minutes behind (real edge
 * under libfaketime, real hub and devices). Every event is accepted, kept in each device's order, stamped with the
 * gateway's source time beside the hub's receive time, and found by a time-bounded query.
 */
describe.skipIf(!existsSync(LIBFAKETIME))('fault: clock skew between edge and hub', () => {
  let campus: FaultCampus | undefined;
  afterAll(() => campus?.close());

  it('accepts and orders events from a gateway 10 minutes ahead, then 10 minutes behind', { timeout: 180_000 }, async () => {
    campus = await FaultCampus.create('gw-cs', DOORS);
    await campus.startHub();

    const ahead = await campus.startEdge(skewed(10));
    await campus.connectDevices();
    await campus.burst(0, PER_DOOR);
    await campus.storedAll(PER_DOOR * DOORS.length, 60_000);
    await campus.stop(ahead);
    // The devices reconnect by themselves to the agent started again with its clock behind.
    await campus.startEdge(skewed(-10));
    await campus.burst(PER_DOOR, PER_DOOR);
    await campus.storedAll(2 * PER_DOOR * DOORS.length, 60_000);

    const rows = campus.expectExactlyOnceInOrder(2 * PER_DOOR);
    // Source time is the gateway's, about 10 minutes off the hub's receive time each way.
    const first = rows.filter((r) => r.card < PER_DOOR).map((r) => r.ts - r.receivedAt);
    const second = rows.filter((r) => r.card >= PER_DOOR).map((r) => r.ts - r.receivedAt);
    expect(Math.min(...first)).toBeGreaterThan(8 * MIN);
    expect(Math.max(...first)).toBeLessThan(12 * MIN);
    expect(Math.max(...second)).toBeLessThan(-8 * MIN);
    expect(Math.min(...second)).toBeGreaterThan(-12 * MIN);
    // A time-bounded query over source time finds both rounds; a window on the hub's own "now" misses the skewed ones.
    const lo = Math.min(...rows.map((r) => r.ts));
    const hi = Math.max(...rows.map((r) => r.ts));
    const page = await api<{ events: Array<{ device: string }> }>(campus.site.base, campus.token, `/api/events?type=access.granted&from=${lo}&to=${hi}&limit=1000`);
    expect(page.events).toHaveLength(rows.length);
    console.log(`clock skew: ${rows.length} events; source minus receive time ${(Math.min(...first) / MIN).toFixed(1)}..${(Math.max(...first) / MIN).toFixed(1)} min ahead, ${(Math.min(...second) / MIN).toFixed(1)}..${(Math.max(...second) / MIN).toFixed(1)} min behind`);
  });
});
