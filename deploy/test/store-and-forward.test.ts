import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { runWarden, eventually, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { api, e2eSite, login, type E2eSite } from './helpers.ts';

const DOORS = ['door-sf-1', 'door-sf-2', 'door-sf-3', 'door-sf-4'];
const PER_DOOR = 2500; // 10,000 events per round

/**
 * Store and forward across process boundaries: the hub stopped while 10,000 events are generated,
 * then the edge agent SIGKILLed mid-stream. Checked on the hub's own database: every event stored
 * exactly once, and each device's events in the order the device sent them.
 */
describe('store and forward', () => {
  const devices: MqttClient[] = [];
  const procs = new Set<WardenProcess>();
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

  /** (device, card) of every access.granted event the hub stored, in storage order. */
  function stored(): Array<{ id: string; device: string; card: number }> {
    const db = new Database(join(site!.dir, 'hub', 'state.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT id, device, data FROM events WHERE type = 'access.granted' ORDER BY n").all() as Array<{ id: string; device: string; data: string }>).map((r) => ({
        id: r.id,
        device: r.device,
        card: Number((JSON.parse(r.data) as { credential: string }).credential),
      }));
    } finally {
      db.close();
    }
  }

  function expectExactlyOnceInOrder(rounds: number): void {
    const rows = stored();
    expect(rows.length).toBe(rounds * PER_DOOR * DOORS.length);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    for (const door of DOORS) {
      const cards = rows.filter((r) => r.device === door).map((r) => r.card);
      expect(cards).toEqual(Array.from({ length: rounds * PER_DOOR }, (_, i) => i));
    }
  }

  /** Each simulated door controller sends its next PER_DOOR card events (QoS 1, as fast as the link takes them). */
  function burst(round: number, onAck: () => void): Promise<unknown> {
    return Promise.all(
      devices.map((d, di) =>
        Promise.all(
          Array.from({ length: PER_DOOR }, (_, i) =>
            d
              .publishAsync(`acs/${DOORS[di]}/event`, JSON.stringify({ event: 'CARD_GRANTED', door: 1, card: String(round * PER_DOOR + i) }), { qos: 1 })
              .then(onAck),
          ),
        ),
      ),
    );
  }

  it('keeps 10,000 events through a hub outage, then through an edge SIGKILL, exactly once and in order', { timeout: 240_000 }, async () => {
    site = await e2eSite('gw-sf', DOORS);
    let hub = start(['hub', '--config', site.layout.hubConfig]);
    await waitForHttp(`${site.base}/api/health`);
    const token = await login(site.base);
    let edge = start(['edge', '--config', site.layout.edgeConfigs.get('gw-sf')!]);
    await eventually(async () => (await api<{ gateways: Array<{ id: string; online: boolean }> }>(site!.base, token, '/api/gateways')).gateways.some((g) => g.id === 'gw-sf' && g.online), 30_000, 'gateway online');
    for (const id of DOORS) {
      // Real devices keep unacknowledged publishes and send them again after a reconnect (same packet id).
      const c = mqtt.connect(`mqtt://127.0.0.1:${site.fieldPort}`, { clientId: id, username: id, password: site.layout.deviceSecrets[id], reconnectPeriod: 200, connectTimeout: 2000 });
      c.on('error', () => {});
      await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      devices.push(c);
    }

    // Round 1: the hub is down while the devices send 10,000 events; they queue in the gateway's outbox.
    await hub.stop();
    procs.delete(hub);
    await burst(0, () => {});
    hub = start(['hub', '--config', site.layout.hubConfig]);
    await eventually(() => stored().length >= PER_DOOR * DOORS.length, 120_000, 'round 1 stored');
    // Let any resend settle before counting: a duplicate would show up as an extra row.
    await new Promise((r) => setTimeout(r, 1500));
    expectExactlyOnceInOrder(1);

    // Round 2: the edge agent is SIGKILLed mid-stream and restarted from the same config and outbox.
    let acked = 0;
    let killed: Promise<void> | undefined;
    const round2 = burst(1, () => {
      if (++acked === 3000) {
        killed = (async () => {
          await edge.kill9();
          procs.delete(edge);
          edge = start(['edge', '--config', site!.layout.edgeConfigs.get('gw-sf')!]);
        })();
      }
    });
    await round2;
    await killed;
    expect(acked).toBe(PER_DOOR * DOORS.length);
    await eventually(() => stored().length >= 2 * PER_DOOR * DOORS.length, 120_000, 'round 2 stored');
    await new Promise((r) => setTimeout(r, 1500));
    expectExactlyOnceInOrder(2);
  });
});
