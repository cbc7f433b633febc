import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runWarden, eventually } from '../src/testing.ts';
import { FaultCampus } from './faults-campus.ts';

const DOORS = ['door-fk-1', 'door-fk-2', 'door-fk-3'];
const PER_DOOR = 1000;

/**
 * Fault injection with real processes (issue 13): the hub SIGKILLed in the middle of ingest. The hub acknowledges a
 * batch only after its SQLite commit (synchronous=FULL), and the gateway keeps what was not acknowledged, so after
 * the restart every event the devices sent is stored exactly once and in each device's order. On the way, `warden
 * backup` is run as its own process against the hub while it ingests.
 */
describe('fault: hub killed during ingest', () => {
  let campus: FaultCampus | undefined;
  afterAll(() => campus?.close());

  it('loses nothing it acknowledged and stores nothing twice after a SIGKILL mid-ingest', { timeout: 180_000 }, async () => {
    campus = await FaultCampus.create('gw-fk', DOORS);
    const hub = await campus.startHub();
    await campus.startEdge();
    await campus.connectDevices();

    const sending = campus.burst(0, PER_DOOR);
    // Kill the hub with SIGKILL while events are still arriving, then start it again on the same data.
    await eventually(() => campus!.stored().length >= 400, 60_000, 'ingest under way');
    await campus.stop(hub, 'SIGKILL');
    const atKill = campus.stored();
    await campus.startHub();
    // A backup by the CLI, as its own process, while the restarted hub takes the backlog (it asks the running hub
    // over its control socket).
    const backupDir = join(campus.site.dir, 'backup-during-ingest');
    const backup = runWarden(['backup', backupDir, '--config', campus.site.layout.hubConfig]);
    const line = await backup.waitFor(/backup (of the running hub written|failed)/, 60_000);
    expect(line).toMatch(/backup of the running hub written to .*: \d+ files/);
    await backup.stop();
    await sending;
    await campus.storedAll(PER_DOOR * DOORS.length);
    const rows = campus.expectExactlyOnceInOrder(PER_DOOR);
    // What the hub had committed (and so possibly acknowledged) before the kill is still there.
    const ids = new Set(rows.map((r) => r.id));
    expect(atKill.every((r) => ids.has(r.id))).toBe(true);
    expect(atKill.length).toBeLessThan(rows.length);
    console.log(`hub SIGKILLed with ${atKill.length} of ${rows.length} events stored; after restart all ${rows.length} stored once, in order`);
  });
});
