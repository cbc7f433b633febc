import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, runWarden, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { api, e2eSite, login, type E2eSite } from './helpers.ts';

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
  const procs = new Set<WardenProcess>();
  const devices: MqttClient[] = [];
  let site: E2eSite | undefined;
  const start = (args: string[]) => {
    const p = runWarden(args);
    procs.add(p);
    return p;
  };
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.endAsync(true)));
    for (const p of [...procs].reverse()) await p.stop();
    site?.remove();
  });

  const stored = (type: string): number => {
    const db = new Database(join(site!.dir, 'hub', 'state.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM events WHERE type = ?').get(type) as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('sheds routine events, never a forced door; every alarm reaches the hub afterwards; shed counts reported', { timeout: 180_000 }, async () => {
    site = await e2eSite(GW, DOORS);
    const edgeConfig = site.layout.edgeConfigs.get(GW)!;
    const cfg = parse(readFileSync(edgeConfig, 'utf8')) as { outbox?: Record<string, unknown> };
    cfg.outbox = { ...cfg.outbox, maxRecords: CAP };
    writeFileSync(edgeConfig, stringify(cfg));

    let hub = start(['hub', '--config', site.layout.hubConfig]);
    await waitForHttp(`${site.base}/api/health`);
    const token = await login(site.base);
    start(['edge', '--config', edgeConfig]);
    const gateway = async () => (await api<{ gateways: Array<{ id: string; online: boolean; outboxShed?: { telemetry: number; routine: number } }> }>(site!.base, token, '/api/gateways')).gateways.find((g) => g.id === GW);
    await eventually(async () => (await gateway())?.online, 30_000, 'gateway online');
    for (const id of DOORS) {
      const c = mqtt.connect(`mqtt://127.0.0.1:${site.fieldPort}`, { clientId: id, username: id, password: site.layout.deviceSecrets[id], reconnectPeriod: 200 });
      c.on('error', () => {});
      await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      devices.push(c);
    }

    // The hub goes down; each door sends 1,000 card events with a forced door every 40th message.
    await hub.stop();
    procs.delete(hub);
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

    hub = start(['hub', '--config', site.layout.hubConfig]);
    await waitForHttp(`${site.base}/api/health`);
    const token2 = await login(site.base);
    await eventually(() => stored('door.forced') >= DOORS.length * FORCED_PER_DOOR, 60_000, 'every forced door stored');
    const status = await eventually(async () => {
      const g = (await api<{ gateways: Array<{ id: string; outboxShed?: { telemetry: number; routine: number } }> }>(site!.base, token2, '/api/gateways')).gateways.find((x) => x.id === GW);
      return g?.outboxShed && g.outboxShed.routine > 0 ? g.outboxShed : undefined;
    }, 30_000, 'shed counts in the gateway status');
    // Let the backlog drain before counting.
    await new Promise((r) => setTimeout(r, 1500));
    expect(stored('door.forced')).toBe(DOORS.length * FORCED_PER_DOOR);
    const granted = stored('access.granted');
    expect(granted).toBeLessThan(DOORS.length * ROUTINE_PER_DOOR);
    expect(granted).toBeGreaterThan(0);
    // Nothing silently lost: what was not stored was counted as shed (device.online events are routine too).
    expect(granted + status.routine).toBeGreaterThanOrEqual(DOORS.length * ROUTINE_PER_DOOR);
    expect(granted + status.routine).toBeLessThanOrEqual(DOORS.length * ROUTINE_PER_DOOR + 2 * DOORS.length);
    const metrics = await (await fetch(`${site.base}/api/metrics`, { headers: { authorization: `Bearer ${token2}` } })).text();
    expect(metrics).toContain(`warden_edge_outbox_shed_total{gateway="${GW}",class="routine"} ${status.routine}`);
  });
});
