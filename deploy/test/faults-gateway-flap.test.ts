import { afterAll, describe, expect, it } from 'vitest';
import { io, type Socket as LiveSocket } from 'socket.io-client';
import type { LiveMessages } from '@warden/contract';
import { api } from './helpers.ts';
import { FaultCampus, tcpProxy, type TcpProxy } from './faults-campus.ts';

const DOORS = ['door-fl-1', 'door-fl-2', 'door-fl-3'];
const FLAP_EVERY_MS = 3000;
const FLAPPING_FOR_MS = 60_000;

/**
 * Fault injection (issue 13): the link between a gateway and the hub cut every 3 s for a minute (a TCP proxy in front
 * of the hub's MQTT port drops every connection; real hub, edge and devices) while the devices keep sending. Nothing
 * is lost, nothing stored twice, each device's order kept, and the flapping raises no alarm: the hub sees the gateway
 * go offline at every cut, but each gap is far below `alarms.offlineDebounceSeconds` (60 s by default), and the
 * gateway-offline rule raises only for a gateway not back within it. The devices stay on their field broker, so no
 * device.offline either.
 */
describe('fault: a gateway flapping for a minute', () => {
  let proxy: TcpProxy | undefined;
  let live: LiveSocket | undefined;
  let campus: FaultCampus | undefined;

  afterAll(async () => {
    live?.close();
    await campus?.close();
    await proxy?.close();
  });

  it('loses nothing, stores nothing twice and raises no alarm while the hub link flaps every 3 s for 60 s', { timeout: 180_000 }, async () => {
    const t0 = Date.now();
    campus = await FaultCampus.create('gw-fl', DOORS);
    await campus.startHub();

    // The gateway reaches the hub through a proxy the test can cut.
    proxy = await tcpProxy(campus.site.mqttPort);
    campus.edgeConfig((cfg) => {
      cfg.hub.url = `mqtt://127.0.0.1:${proxy!.port}`;
      cfg.hub.reconnectMs = 300;
    });
    await campus.startEdge();
    await campus.connectDevices();

    // The hub's own view of the gateway, as a console receives it: every online -> offline transition.
    let offlineSeen = 0;
    let wasOnline = true;
    live = io(campus.site.base, { auth: { token: campus.token }, transports: ['websocket'] });
    live.on('gateway', (g: LiveMessages['gateway']) => {
      if (g.id !== 'gw-fl') return;
      if (wasOnline && !g.online) offlineSeen++;
      wasOnline = g.online;
    });
    await new Promise<void>((resolve) => live!.once('connect', () => resolve()));

    // Devices send all along (one card event per door every 50 ms); the link is cut every 3 s.
    let flaps = 0;
    const setupMs = Date.now() - t0;
    const flapper = setInterval(() => {
      flaps++;
      proxy!.cut();
    }, FLAP_EVERY_MS);
    const stream = campus.stream(50);
    await new Promise((r) => setTimeout(r, FLAPPING_FOR_MS));
    clearInterval(flapper);
    const flappedAt = Date.now();
    const sent = await stream.stop();
    const total = stream.total();
    await campus.storedAll(total);
    const drainMs = Date.now() - flappedAt - 1500;
    campus.expectExactlyOnceInOrder(sent);

    // The cuts reached the hub: it saw the gateway go offline again and again (a cut during a reconnect may merge
    // two), so the debounce was exercised, not skipped.
    expect(offlineSeen).toBeGreaterThanOrEqual(flaps / 2);
    // What the debounce allows for gaps of well under a second each: no gateway.offline alarm at all, and no
    // device.offline (the devices never left their field broker). Nothing else either (plain card grants).
    const alarms = await api<{ alarms: Array<{ type: string; device: string }> }>(campus.site.base, campus.token, '/api/alarms?limit=500');
    expect(alarms.alarms.map((a) => `${a.type} ${a.device}`)).toEqual([]);
    expect((await campus.gatewayStatus())?.online).toBe(true);
    console.log(`gateway flapping: ${flaps} link cuts in ${FLAPPING_FOR_MS / 1000} s, ${offlineSeen} offline transitions at the hub, ${total} events stored once and in order (the last ${(drainMs / 1000).toFixed(1)} s after the flapping ended; setup took ${(setupMs / 1000).toFixed(1)} s), ${alarms.alarms.length} alarms`);
  });
});
