import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayTopic } from '@warden/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHubConfig, startHub } from '../src/index.ts';
import { ackWatcher, api, connectGateway, FakeGatewayBatches, inventory, login } from './helpers.ts';

describe('restart', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-hub-restart-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const config = () => parseHubConfig({ http: { port: 0 }, mqtt: { port: 0 }, dataDir: dir, dashboard: { dir: join(dir, 'none') }, gateways: [{ id: 'gw-r', password: 'restart-gateway-pw' }],
    // The hub owns the registry: the door is registered, the gateway's inventory only reports it.
    devices: { registry: [{ id: 'door-r', gateway: 'gw-r', kind: 'door' }] },
  });

  it('generates the admin password once, keeps data, credentials and login tokens across a restart', async () => {
    const first = await startHub(config(), { logger: false });
    expect(first.initialAdminPassword).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const token = await login(first, 'admin', first.initialAdminPassword!);
    const gw = await connectGateway(first.mqttUrl, 'gw-r', 'restart-gateway-pw');
    const acks = await ackWatcher(gw, 'gw-r');
    await gw.publishAsync(gatewayTopic('gw-r', 'inventory'), inventory('gw-r', [{ id: 'door-r', kind: 'door' }]), { qos: 1, retain: true });
    const g = new FakeGatewayBatches('gw-r');
    const ev = g.event('door-r', 'door.opened');
    await gw.publishAsync(gatewayTopic('gw-r', 'up'), g.batch([ev, g.telemetry('door-r', { battery_pct: 80 })]), { qos: 1 });
    await acks.until(g.seq);
    await gw.endAsync();
    const password = first.initialAdminPassword!;
    await first.stop();
    expect((await stat(join(dir, 'jwt-secret'))).mode & 0o777).toBe(0o600);

    const second = await startHub(config(), { logger: false });
    try {
      expect(second.initialAdminPassword).toBeUndefined();
      // The old token is still valid (same secret), and the old password still works.
      expect((await api(second, token, '/api/me')).status).toBe(200);
      await login(second, 'admin', password);
      const events = (await api<{ events: Array<{ id: string }> }>(second, token, '/api/events')).body.events;
      expect(events.map((e) => e.id)).toEqual([ev.id]);
      const tel = (await api<{ points: number[][] }>(second, token, '/api/telemetry?device=door-r&metric=battery_pct&step=1h')).body.points;
      expect(tel.map(([, v]) => v)).toEqual([80]);
      // Nobody is connected after a restart, whatever was recorded before.
      const gws = (await api<{ gateways: Array<{ online: boolean }> }>(second, token, '/api/gateways')).body.gateways;
      expect(gws[0]!.online).toBe(false);
      // Resending the same record after the restart is still recognised as a duplicate.
      const again = await connectGateway(second.mqttUrl, 'gw-r', 'restart-gateway-pw');
      const acks2 = await ackWatcher(again, 'gw-r');
      await again.publishAsync(gatewayTopic('gw-r', 'up'), g.batch([ev]), { qos: 1 });
      await acks2.until(ev.seq);
      expect((await api<{ events: unknown[] }>(second, token, '/api/events')).body.events).toHaveLength(1);
      await again.endAsync();
    } finally {
      await second.stop();
    }
  });
});
