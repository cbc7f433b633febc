import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { runWarden, eventually, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { api, e2eSite, login, type E2eSite } from './helpers.ts';

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
  const devices: MqttClient[] = [];
  const procs = new Set<WardenProcess>();
  let site: E2eSite | undefined;
  const start = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const p = runWarden(args, env);
    procs.add(p);
    return p;
  };
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.endAsync(true)));
    for (const p of [...procs].reverse()) await p.stop();
    site?.remove();
  });

  function stored(): Array<{ device: string; card: number; ts: number; receivedAt: number }> {
    const db = new Database(join(site!.dir, 'hub', 'state.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT device, data, ts, received_at AS receivedAt FROM events WHERE type = 'access.granted' ORDER BY n").all() as Array<{ device: string; data: string; ts: number; receivedAt: number }>).map((r) => ({
        device: r.device,
        card: Number((JSON.parse(r.data) as { credential: string }).credential),
        ts: r.ts,
        receivedAt: r.receivedAt,
      }));
    } finally {
      db.close();
    }
  }

  async function round(edgeEnv: NodeJS.ProcessEnv, from: number, token: string): Promise<WardenProcess> {
    const edge = start(['edge', '--config', site!.layout.edgeConfigs.get('gw-cs')!], edgeEnv);
    await eventually(async () => (await api<{ gateways: Array<{ id: string; online: boolean }> }>(site!.base, token, '/api/gateways')).gateways.some((g) => g.id === 'gw-cs' && g.online), 60_000, 'gateway online');
    for (const [di, id] of DOORS.entries()) {
      const c = devices[di] ?? mqtt.connect(`mqtt://127.0.0.1:${site!.fieldPort}`, { clientId: id, username: id, password: site!.layout.deviceSecrets[id], reconnectPeriod: 200, connectTimeout: 2000 });
      c.on('error', () => {});
      if (!c.connected) await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      devices[di] = c;
    }
    await Promise.all(
      devices.map((d, di) => Promise.all(Array.from({ length: PER_DOOR }, (_, i) => d.publishAsync(`acs/${DOORS[di]}/event`, JSON.stringify({ event: 'CARD_GRANTED', door: 1, card: String(from + i) }), { qos: 1 })))),
    );
    await eventually(() => stored().length >= (from + PER_DOOR) * DOORS.length, 60_000, 'events stored');
    return edge;
  }

  it('accepts and orders events from a gateway 10 minutes ahead, then 10 minutes behind', { timeout: 180_000 }, async () => {
    site = await e2eSite('gw-cs', DOORS);
    start(['hub', '--config', site.layout.hubConfig]);
    await waitForHttp(`${site.base}/api/health`);
    const token = await login(site.base);

    const ahead = await round(skewed(10), 0, token);
    await ahead.stop();
    procs.delete(ahead);
    await round(skewed(-10), PER_DOOR, token);

    const rows = stored();
    expect(rows).toHaveLength(2 * PER_DOOR * DOORS.length);
    for (const door of DOORS) expect(rows.filter((r) => r.device === door).map((r) => r.card)).toEqual(Array.from({ length: 2 * PER_DOOR }, (_, i) => i));
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
    const page = await api<{ events: Array<{ device: string }> }>(site.base, token, `/api/events?type=access.granted&from=${lo}&to=${hi}&limit=1000`);
    expect(page.events).toHaveLength(rows.length);
    console.log(`clock skew: ${rows.length} events; source minus receive time ${(Math.min(...first) / MIN).toFixed(1)}..${(Math.max(...first) / MIN).toFixed(1)} min ahead, ${(Math.min(...second) / MIN).toFixed(1)}..${(Math.max(...second) / MIN).toFixed(1)} min behind`);
  });
});
