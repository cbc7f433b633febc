import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing.ts';
import { FaultCampus } from './faults-campus.ts';

const GW = 'gw-cap';
const DOORS = ['door-cap-1', 'door-cap-2', 'door-cap-3', 'door-cap-4'];
const ROUTINE_PER_DOOR = 1000;
const FORCED_PER_DOOR = 25;
const CAP = 500;

/**
 * A gateway whose outbox is capped at 500 records, with the hub down while its doors send 4,000 routine events
 * and 100 forced-door events: the outbox sheds the oldest routine events (counted), never a forced door; when the
 * hub is back, every forced door is stored, and the hub shows the shed count the gateway reported.
 */
describe('edge outbox at its cap (real hub, real edge agent, devices over MQTT)', () => {
  let campus: FaultCampus | undefined;
  afterAll(() => campus?.close());

  it('sheds routine events, never a forced door; every alarm reaches the hub afterwards; shed counts reported', { timeout: 180_000 }, async () => {
    campus = await FaultCampus.create(GW, DOORS);
    campus.edgeConfig((cfg) => void (cfg.outbox = { ...(cfg.outbox as object), maxRecords: CAP }));
    const hub = await campus.startHub();
    await campus.startEdge();
    const devices = await campus.connectDevices();

    // The hub goes down; each door sends 1,000 card events with a forced door every 40th message.
    await campus.stop(hub);
    let acked = 0;
    await Promise.all(
      devices.map((d, di) =>
        Promise.all(
          Array.from({ length: ROUTINE_PER_DOOR + FORCED_PER_DOOR }, (_, i) => {
            const forced = i % 41 === 40;
            const msg = forced ? { event: 'FORCED_OPEN', door: 1 } : { event: 'CARD_GRANTED', door: 1, card: String(i) };
            return d.publishAsync(`acs/${DOORS[di]}/event`, JSON.stringify(msg), { qos: 1 }).then(() => void acked++);
          }),
        ),
      ),
    );
    // Every device publish was acknowledged (no resend loop), although most of them could not be kept.
    expect(acked).toBe(DOORS.length * (ROUTINE_PER_DOOR + FORCED_PER_DOOR));

    await campus.startHub();
    await eventually(() => campus!.count('door.forced') >= DOORS.length * FORCED_PER_DOOR, 60_000, 'every forced door stored');
    const status = await eventually(async () => {
      const shed = (await campus!.gatewayStatus())?.outboxShed;
      return shed && shed.routine > 0 ? shed : undefined;
    }, 30_000, 'shed counts in the gateway status');
    // Let the backlog drain before counting.
    await new Promise((r) => setTimeout(r, 1500));
    expect(campus.count('door.forced')).toBe(DOORS.length * FORCED_PER_DOOR);
    const granted = campus.count('access.granted');
    expect(granted).toBeLessThan(DOORS.length * ROUTINE_PER_DOOR);
    expect(granted).toBeGreaterThan(0);
    // Nothing silently lost: what was not stored was counted as shed (device.online events are routine too).
    expect(granted + status.routine).toBeGreaterThanOrEqual(DOORS.length * ROUTINE_PER_DOOR);
    expect(granted + status.routine).toBeLessThanOrEqual(DOORS.length * ROUTINE_PER_DOOR + 2 * DOORS.length);
    const metrics = await (await fetch(`${campus.site.base}/api/metrics`, { headers: { authorization: `Bearer ${campus.token}` } })).text();
    expect(metrics).toContain(`warden_edge_outbox_shed_total{gateway="${GW}",class="routine"} ${status.routine}`);
  });
});
