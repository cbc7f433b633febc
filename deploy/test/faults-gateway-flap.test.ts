import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { parse, stringify } from 'yaml';
import { runWarden, eventually, freePort, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { api, e2eSite, login, type E2eSite } from './helpers.ts';

const DOORS = ['door-fl-1', 'door-fl-2', 'door-fl-3'];
const FLAP_EVERY_MS = 3000;
const FLAPPING_FOR_MS = 30_000;

/**
 * Fault injection (issue 13): the link between a gateway and the hub cut every 3 s for 30 s (a TCP proxy in front of
 * the hub's MQTT port drops every connection; real hub, edge and devices) while the devices keep sending. Nothing
 * is lost, nothing stored twice, each device's order kept, and the flapping raises no alarm flood: reconnects
 * inside the gateway-offline debounce raise nothing.
 */
describe('fault: a gateway flapping', () => {
  const devices: MqttClient[] = [];
  const procs = new Set<WardenProcess>();
  const links = new Set<Socket>();
  let proxy: Server | undefined;
  let site: E2eSite | undefined;

  afterAll(async () => {
    await Promise.all(devices.map((d) => d.endAsync(true)));
    for (const p of [...procs].reverse()) await p.stop();
    for (const s of links) s.destroy();
    await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
    site?.remove();
  });

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

  it('loses nothing, stores nothing twice and raises no alarm flood while the hub link flaps', { timeout: 180_000 }, async () => {
    site = await e2eSite('gw-fl', DOORS);
    const start = (args: string[]) => {
      const p = runWarden(args);
      procs.add(p);
      return p;
    };
    start(['hub', '--config', site.layout.hubConfig]);
    await waitForHttp(`${site.base}/api/health`);
    const token = await login(site.base);

    // The gateway reaches the hub through a proxy the test can cut.
    const proxyPort = await freePort();
    proxy = createServer((inbound) => {
      const outbound = createConnection(site!.mqttPort, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        links.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          links.delete(s);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    await new Promise<void>((r) => proxy!.listen(proxyPort, '127.0.0.1', () => r()));
    const edgeFile = site.layout.edgeConfigs.get('gw-fl')!;
    const edgeConfig = parse(readFileSync(edgeFile, 'utf8')) as { hub: Record<string, unknown> };
    edgeConfig.hub.url = `mqtt://127.0.0.1:${proxyPort}`;
    edgeConfig.hub.reconnectMs = 300;
    const flapFile = join(site.dir, 'edge-flap.yaml');
    writeFileSync(flapFile, stringify(edgeConfig));
    start(['edge', '--config', flapFile]);
    await eventually(async () => (await api<{ gateways: Array<{ id: string; online: boolean }> }>(site!.base, token, '/api/gateways')).gateways.some((g) => g.id === 'gw-fl' && g.online), 60_000, 'gateway online');
    for (const id of DOORS) {
      const c = mqtt.connect(`mqtt://127.0.0.1:${site.fieldPort}`, { clientId: id, username: id, password: site.layout.deviceSecrets[id], reconnectPeriod: 200, connectTimeout: 2000 });
      c.on('error', () => {});
      await new Promise<void>((resolve) => c.once('connect', () => resolve()));
      devices.push(c);
    }

    // Devices send all along (one card event per door every 50 ms); the link is cut every 3 s.
    let flaps = 0;
    const flapper = setInterval(() => {
      flaps++;
      for (const s of links) s.destroy();
    }, FLAP_EVERY_MS);
    const sent = DOORS.map(() => 0);
    const until = Date.now() + FLAPPING_FOR_MS;
    const sends: Array<Promise<unknown>> = [];
    while (Date.now() < until) {
      devices.forEach((d, di) => sends.push(d.publishAsync(`acs/${DOORS[di]}/event`, JSON.stringify({ event: 'CARD_GRANTED', door: 1, card: String(sent[di]!++) }), { qos: 1 })));
      await new Promise((r) => setTimeout(r, 50));
    }
    clearInterval(flapper);
    await Promise.all(sends);
    const total = sent.reduce((a, b) => a + b, 0);
    await eventually(() => stored().length >= total, 90_000, 'every event stored');
    await new Promise((r) => setTimeout(r, 1500));
    const rows = stored();
    expect(rows.length).toBe(total);
    expect(new Set(rows.map((r) => r.id)).size).toBe(total);
    DOORS.forEach((door, di) => expect(rows.filter((r) => r.device === door).map((r) => r.card)).toEqual(Array.from({ length: sent[di]! }, (_, i) => i)));
    // No flood: the flaps were shorter than the gateway-offline debounce, so no gateway or device alarm at all.
    const alarms = await api<{ alarms: Array<{ type: string; device: string }> }>(site.base, token, '/api/alarms?limit=500');
    const availability = alarms.alarms.filter((a) => a.type === 'gateway.offline' || a.type === 'device.offline');
    expect(availability.length).toBeLessThanOrEqual(1);
    console.log(`gateway flapping: ${flaps} link cuts in ${FLAPPING_FOR_MS / 1000} s, ${total} events stored once and in order, ${availability.length} availability alarm(s), ${alarms.alarms.length} alarms in all`);
  });
});
