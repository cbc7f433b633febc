import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { gatewayTopic } from '@warden/contract';
import { api, connectGateway, eventually, FakeGatewayBatches, inventory, login, metric, testHub, type TestHub } from './helpers.ts';

/**
 * Fault injection (issue 13): the hub's data dir on a real 8 MiB tmpfs that fills up. The hub keeps answering reads,
 * leaves what it cannot store unacknowledged (so the gateway keeps it), raises hub.disk_low, and once space is back
 * stores the resent batch. Needs root for the mount; skipped with a message otherwise.
 */
const root = process.getuid?.() === 0;
describe.skipIf(!root)('fault: hub disk full', () => {
  let mnt: string;
  let t: TestHub;
  let gw: MqttClient;
  let token: string;
  const g = new FakeGatewayBatches('gw-df');
  const acks: number[] = [];

  beforeAll(async () => {
    mnt = mkdtempSync(join(tmpdir(), 'warden-diskfull-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
    t = await testHub(
      {
        retention: { minFreeBytes: 1024 * 1024, minFreePercent: 0, diskCheckSeconds: 5 },
        gateways: [{ id: 'gw-df', password: 'disk-full-gateway-password' }],
        devices: { registry: [{ id: 'door-df', gateway: 'gw-df', kind: 'door' }] },
      },
      join(mnt, 'hub'),
    );
    gw = await connectGateway(t.hub.mqttUrl, 'gw-df', 'disk-full-gateway-password');
    gw.on('message', (topic, payload) => {
      if (topic === gatewayTopic('gw-df', 'ack')) acks.push((JSON.parse(payload.toString()) as { upTo: number }).upTo);
    });
    await gw.subscribeAsync(gatewayTopic('gw-df', 'ack'), { qos: 1 });
    await gw.publishAsync(gatewayTopic('gw-df', 'inventory'), inventory('gw-df', [{ id: 'door-df', kind: 'door' }]), { qos: 1, retain: true });
    token = await login(t.hub);
  }, 60_000);

  afterAll(async () => {
    await gw?.endAsync(true);
    await t?.close();
    try {
      execFileSync('umount', ['-l', mnt]);
    } catch {
      // already gone
    }
    rmSync(mnt, { recursive: true, force: true });
  });

  const batch = (n: number) => g.batch(Array.from({ length: n }, (_, i) => g.event('door-df', 'door.closed', {})));

  it('keeps serving reads, leaves unstorable batches unacknowledged, and stores them once space is back', async () => {
    await gw.publishAsync(gatewayTopic('gw-df', 'up'), batch(50), { qos: 1 });
    await eventually(() => acks.at(-1) === g.seq, 'first batch acknowledged');
    // Fill the file system to the last block.
    const filler = join(mnt, 'filler');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' });
    } catch {
      // dd stops with "No space left on device": that is the point
    }
    const before = acks.length;
    const full = batch(800);
    const fullUpTo = g.seq;
    await gw.publishAsync(gatewayTopic('gw-df', 'up'), full, { qos: 1 });
    await new Promise((r) => setTimeout(r, 3000));
    expect(acks.slice(before).some((a) => a >= fullUpTo)).toBe(false);
    // Reads still work while writes fail.
    const page = await api<{ events: unknown[] }>(t.hub, token, '/api/events?device=door-df&limit=100');
    expect(page.status).toBe(200);
    expect(page.body.events).toHaveLength(50);
    expect((await api(t.hub, token, '/api/health')).status).toBe(200);
    // The disk check sees it (the hub.disk_low alarm is meant to come before this point: here there is no room to store it).
    await eventually(async () => (await metric(t.hub, 'warden_hub_data_dir_free_bytes')) < 1024 * 1024, 'the free-space gauge low', 15_000);
    const failures = await metric(t.hub, 'warden_hub_store_write_failures_total');
    expect(failures).toBeGreaterThanOrEqual(1);
    console.log(`disk full: ${failures} uplink(s) left unacknowledged, reads served`);

    // Space back: the gateway sends the same batch again (its outbox kept it) and it is stored once.
    unlinkSync(filler);
    await gw.publishAsync(gatewayTopic('gw-df', 'up'), full, { qos: 1 });
    await gw.publishAsync(gatewayTopic('gw-df', 'up'), batch(5), { qos: 1 });
    const last = g.seq;
    await eventually(() => (acks.at(-1) ?? 0) >= last, 'the resent batch and a new one acknowledged', 20_000);
    const all = await api<{ events: unknown[]; next: string | null }>(t.hub, token, '/api/events?device=door-df&limit=1000');
    const rest = all.body.next ? await api<{ events: unknown[] }>(t.hub, token, `/api/events?device=door-df&limit=1000&before=${all.body.next}`) : { body: { events: [] } };
    expect(all.body.events.length + rest.body.events.length).toBe(855);
  }, 60_000);
});
