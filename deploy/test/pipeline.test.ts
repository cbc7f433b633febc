import { afterAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { runWarden, eventually, type WardenProcess } from '../src/testing.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { api, e2eSite, login, type E2eSite } from './helpers.ts';

interface StoredEvent {
  id: string;
  device: string;
  type: string;
  gateway: string;
  ts: number;
}

/**
 * The whole path across process boundaries over real TCP: a simulated door controller (warden sim)
 * → the gateway's field broker and driver (warden edge) → the hub (warden hub) → REST and socket.io.
 */
describe('field device to console, as separate processes', () => {
  const procs: WardenProcess[] = [];
  let site: E2eSite | undefined;
  let socket: Socket | undefined;

  afterAll(async () => {
    socket?.close();
    for (const p of procs.reverse()) await p.stop();
    site?.remove();
  });

  it('a forced door reaches the REST API and a socket.io client', async () => {
    site = await e2eSite('gw-e2e', ['door-e2e-1', 'door-e2e-2']);
    const hub = runWarden(['hub', '--config', site.layout.hubConfig]);
    procs.push(hub);
    await waitForHttp(`${site.base}/api/health`);
    const token = await login(site.base);

    socket = io(site.base, { auth: { token }, transports: ['websocket'] });
    const live: StoredEvent[] = [];
    socket.on('event', (e: StoredEvent) => live.push(e));
    await new Promise<void>((resolve, reject) => (socket!.once('connect', () => resolve()), socket!.once('connect_error', reject)));

    procs.push(runWarden(['edge', '--config', site.layout.edgeConfigs.get('gw-e2e')!]));
    await eventually(async () => {
      const { gateways } = await api<{ gateways: Array<{ id: string; online: boolean }> }>(site!.base, token, '/api/gateways');
      return gateways.some((g) => g.id === 'gw-e2e' && g.online);
    }, 30_000, 'gateway online at the hub');

    procs.push(runWarden(['sim', site.scenario([{ at: '1s', device: 'door-e2e-1', do: 'force' }])]));

    const forced = await eventually(() => live.find((e) => e.type === 'door.forced' && e.device === 'door-e2e-1'), 30_000, 'door.forced on socket.io');
    expect(forced.gateway).toBe('gw-e2e');

    const { events } = await api<{ events: StoredEvent[] }>(site.base, token, '/api/events?type=door.forced&device=door-e2e-1');
    expect(events.map((e) => e.id)).toContain(forced.id);

    const { devices } = await api<{ devices: Array<{ id: string; online: boolean }> }>(site.base, token, '/api/devices?gateway=gw-e2e');
    expect(devices.find((d) => d.id === 'door-e2e-1')?.online).toBe(true);
  });
});
