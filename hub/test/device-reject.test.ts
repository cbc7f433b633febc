import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayTopic } from '@warden/contract';
import { api, clockAt, connectGateway, eventually, FakeGatewayBatches, inventory, login, metric, testHub, type TestDevice, type TestHub } from './helpers.ts';

/*
 * Issue 9 leftover: an admin rejects a device a gateway's inventory proposed (POST /api/devices/:id/reject, with a
 * reason, audited). The rejected device's records stay refused, the gateway's next inventories neither propose it
 * again nor drop it (across a hub restart too), until an admin un-rejects it (or adopts it).
 */
const GW = 'gw-r';
const GW_PW = 'reject-gateway-password';
const PW = 'a-long-test-password-rj';
const INVENTORY: TestDevice[] = [
  { id: 'door-1', kind: 'door', building: 'A' },
  { id: 'cam-new', kind: 'camera', name: 'Discovered: VC-1' },
  { id: 'rogue-1', kind: 'fire_sensor', building: 'A', name: 'Unknown smoke detector' },
];
const CONFIG = {
  users: [
    { username: 'sec', roles: ['security'], password: PW },
    { username: 'sup', roles: ['supervisor'], password: PW },
    { username: 'fac', roles: ['facilities'], password: PW },
    { username: 'dorm', roles: ['dorm'], password: PW },
  ],
  gateways: [{ id: GW, name: 'Reject test', password: GW_PW }],
  devices: { registry: [{ id: 'door-1', gateway: GW, kind: 'door', building: 'A' }] },
};

interface DeviceBody {
  id: string;
  status: string;
  gateway: string;
  kind: string;
  rejection?: { reason: string; by: string; at: number };
}

describe('rejecting a proposed device (issue 9 leftover)', () => {
  let dataDir: string;
  let t: TestHub;
  let gw: MqttClient;
  let admin: string;
  const tokens: Record<string, string> = {};
  const g = new FakeGatewayBatches(GW);
  const rejected = (reason: string) => metric(t.hub, 'warden_hub_rejected_total', { reason });
  const listed = (outcome: 'dead_lettered' | 'repeated') => metric(t.hub, 'warden_hub_inventory_rejected_total', { outcome });
  const rejectionLetters = () => deadLetters().filter((d) => d.detail.includes('rogue-1 was rejected by admin'));
  const deadLetters = () => {
    const db = new Database(join(dataDir, 'state.db'), { readonly: true });
    try {
      return db.prepare('SELECT reason, detail, record_id AS recordId FROM dead_letters ORDER BY id').all() as Array<{ reason: string; detail: string; recordId: string | null }>;
    } finally {
      db.close();
    }
  };
  const list = async (status: string) => (await api<{ devices: DeviceBody[] }>(t.hub, admin, `/api/devices?status=${status}`)).body.devices;
  const reject = (token: string | null, id: string, body: unknown = { reason: 'not ours: unknown MAC' }) =>
    api<{ device: DeviceBody; error?: { code: string; message: string } }>(t.hub, token, `/api/devices/${id}/reject`, { method: 'POST', body });
  const unreject = (token: string | null, id: string) => api<{ device: DeviceBody; error?: { code: string } }>(t.hub, token, `/api/devices/${id}/unreject`, { method: 'POST' });
  const audit = async (action: string) =>
    (await api<{ entries: Array<{ action: string; target: string; actor: string; detail: Record<string, unknown> }> }>(t.hub, admin, `/api/audit?action=${action}`)).body.entries;
  const start = async (clock?: () => number) => {
    t = await testHub(CONFIG, dataDir, clock);
    gw = await connectGateway(t.hub.mqttUrl, GW, GW_PW);
    admin = await login(t.hub);
    for (const u of CONFIG.users) tokens[u.username] = await login(t.hub, u.username, PW);
  };
  const publishInventory = (devices: TestDevice[]) => gw.publishAsync(gatewayTopic(GW, 'inventory'), inventory(GW, devices), { qos: 1, retain: true });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'warden-reject-test-'));
    await start();
    await publishInventory(INVENTORY);
    await eventually(async () => (await list('proposed')).length === 2, 'inventory proposed two devices');
  }, 60_000);
  afterAll(async () => {
    await gw?.endAsync(true);
    await t?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await rm(`${dataDir}.faces-key`, { force: true });
  });

  it('only an admin rejects, with a reason; unknown, adopted and already rejected devices are refused clearly', async () => {
    expect((await reject(null, 'rogue-1')).status).toBe(401);
    for (const u of ['sec', 'sup', 'fac', 'dorm']) expect((await reject(tokens[u]!, 'rogue-1')).status, u).toBe(403);
    expect((await reject(admin, 'rogue-1', {})).status).toBe(400);
    expect((await reject(admin, 'rogue-1', { reason: '' })).status).toBe(400);
    expect((await reject(admin, 'rogue-1', { reason: '   ' })).status).toBe(400);
    expect((await reject(admin, 'no-such-device')).status).toBe(404);
    const adopted = await reject(admin, 'door-1');
    expect(adopted.status).toBe(409);
    expect(adopted.body.error).toMatchObject({ code: 'device_state', message: expect.stringMatching(/door-1 is adopted/) });
    expect((await list('proposed')).map((d) => d.id)).toEqual(['cam-new', 'rogue-1']); // nothing changed

    const res = await reject(admin, 'rogue-1', { reason: 'not ours: unknown MAC' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.device).toMatchObject({ id: 'rogue-1', status: 'rejected', gateway: GW, rejection: { reason: 'not ours: unknown MAC', by: 'admin' } });
    expect(typeof res.body.device.rejection?.at).toBe('number');
    expect((await reject(admin, 'rogue-1')).status).toBe(409); // already rejected

    const entries = await audit('device.reject');
    expect(entries).toEqual([expect.objectContaining({ action: 'device.reject', target: 'rogue-1', actor: 'admin', detail: expect.objectContaining({ gateway: GW, reason: 'not ours: unknown MAC', kind: 'fire_sensor' }) })]);
    expect((await list('proposed')).map((d) => d.id)).toEqual(['cam-new']);
    expect(await list('rejected')).toEqual([expect.objectContaining({ id: 'rogue-1', rejection: expect.objectContaining({ reason: 'not ours: unknown MAC' }) })]);
    // Not part of the campus any more: the plain list (alarm linkage, zone cameras, consoles) leaves it out.
    const all = (await api<{ devices: DeviceBody[] }>(t.hub, tokens.sec!, '/api/devices')).body.devices;
    expect(all.map((d) => d.id)).toEqual(['cam-new', 'door-1']);
  });

  it("a rejected device's records stay refused and dead-lettered; its gateway's next inventory neither proposes nor drops it", async () => {
    const before = await rejected('device_not_adopted');
    const fire = g.event('rogue-1', 'fire.alarm', {});
    const ok = g.event('door-1', 'door.opened', {});
    await gw.publishAsync(gatewayTopic(GW, 'up'), g.batch([fire, ok]), { qos: 1 });
    await eventually(async () => (await rejected('device_not_adopted')) === before + 1, 'record from the rejected device refused');
    expect(deadLetters().find((d) => d.recordId === fire.id)).toMatchObject({ reason: 'device_not_adopted', detail: expect.stringMatching(/rogue-1.*not adopted/) });
    const alarms = (await api<{ alarms: unknown[] }>(t.hub, admin, '/api/alarms?type=fire.alarm')).body.alarms;
    expect(alarms).toEqual([]);

    // The gateway lists it again (a retained inventory is re-sent on every connect): refused, naming who and why.
    await publishInventory(INVENTORY);
    await eventually(async () => (await rejected('device_not_adopted')) === before + 2, 'inventory entry of the rejected device refused');
    const refusal = deadLetters().filter((d) => d.detail.includes('was rejected by admin')).at(-1);
    expect(refusal).toMatchObject({ reason: 'device_not_adopted' });
    expect(refusal!.detail).toMatch(/rogue-1 was rejected by admin \("not ours: unknown MAC"\).*un-rejects/);
    expect((await list('proposed')).map((d) => d.id)).toEqual(['cam-new']);
    expect((await list('rejected')).map((d) => d.id)).toEqual(['rogue-1']);
    expect(await listed('dead_lettered')).toBe(1);

    // Listed again and again (every reconnect, every discovery): counted, not dead-lettered nor logged each time.
    for (let i = 0; i < 3; i++) await publishInventory(INVENTORY);
    await eventually(async () => (await listed('repeated')) === 3, 'repeated listings counted');
    expect(await rejected('device_not_adopted')).toBe(before + 2);
    expect(rejectionLetters()).toHaveLength(1);
    expect((await list('proposed')).map((d) => d.id)).toEqual(['cam-new']);
    expect((await list('rejected')).map((d) => d.id)).toEqual(['rogue-1']);

    // An inventory that no longer lists it does not drop the rejection (a plain proposal would be dropped).
    await publishInventory(INVENTORY.filter((d) => d.id === 'door-1'));
    await eventually(async () => (await list('proposed')).length === 0, 'unlisted proposal dropped');
    expect((await list('rejected')).map((d) => d.id)).toEqual(['rogue-1']);
  });

  it('the rejection survives a hub restart; the next inventory still does not propose it, dead-lettered again only a day later', async () => {
    await gw.endAsync(true);
    await t.close();
    await start();
    expect((await list('rejected')).map((d) => d.id)).toEqual(['rogue-1']);
    const before = await rejected('device_not_adopted');
    await publishInventory(INVENTORY);
    await eventually(async () => (await list('proposed')).map((d) => d.id).join() === 'cam-new', 'cam-new proposed again');
    // Within a day of the dead-lettered listing (kept in state.db): only counted, also after the restart.
    await eventually(async () => (await listed('repeated')) === 1, 'rejected entry counted after the restart');
    expect(await rejected('device_not_adopted')).toBe(before);
    expect(rejectionLetters()).toHaveLength(1);
    expect((await list('rejected')).map((d) => d.id)).toEqual(['rogue-1']);

    // A day later (the hub clock 25 h on) its next listing is dead-lettered once more, then quiet again.
    await gw.endAsync(true);
    await t.close();
    await start(clockAt(Date.now() + 25 * 3_600_000));
    await publishInventory(INVENTORY);
    await eventually(async () => (await listed('dead_lettered')) === 1, 'dead-lettered again after a day');
    await publishInventory(INVENTORY);
    await eventually(async () => (await listed('repeated')) === 1, 'then counted');
    expect(rejectionLetters()).toHaveLength(2);
    expect((await list('rejected')).map((d) => d.id)).toEqual(['rogue-1']);
  }, 60_000);

  it('an admin un-rejects it (audited): a proposal again, taken up by the next inventory; then adopted, it speaks', async () => {
    for (const u of ['sec', 'sup', 'fac', 'dorm']) expect((await unreject(tokens[u]!, 'rogue-1')).status, u).toBe(403);
    expect((await unreject(admin, 'no-such-device')).status).toBe(404);
    expect((await unreject(admin, 'cam-new')).status).toBe(409); // a proposal, not rejected
    const res = await unreject(admin, 'rogue-1');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.device).toMatchObject({ id: 'rogue-1', status: 'proposed' });
    expect(res.body.device.rejection).toBeUndefined();
    expect((await unreject(admin, 'rogue-1')).status).toBe(409);
    expect(await audit('device.unreject')).toEqual([
      expect.objectContaining({ target: 'rogue-1', actor: 'admin', detail: expect.objectContaining({ was: expect.objectContaining({ reason: 'not ours: unknown MAC' }) }) }),
    ]);
    expect((await list('proposed')).map((d) => d.id)).toEqual(['cam-new', 'rogue-1']);
    expect(await list('rejected')).toEqual([]);
    // The gateway's next inventory updates it like any proposal, without a refusal.
    const refusals = await rejected('device_not_adopted');
    await publishInventory(INVENTORY.map((d) => (d.id === 'rogue-1' ? { ...d, name: 'Smoke detector, relabelled' } : d)));
    await eventually(async () => (await list('proposed')).find((d) => d.id === 'rogue-1' && (d as { name?: string }).name === 'Smoke detector, relabelled'), 'proposal updated');
    expect(await rejected('device_not_adopted')).toBe(refusals);

    // Rejected again, then adopted directly: the admin's adoption clears the rejection.
    expect((await reject(admin, 'rogue-1', { reason: 'second look' })).status).toBe(200);
    const adopted = await api<{ device: DeviceBody }>(t.hub, admin, '/api/devices/rogue-1/adopt', { method: 'POST', body: { kind: 'fire_sensor', building: 'A', zone: '2F' } });
    expect(adopted.status).toBe(200);
    expect(adopted.body.device).toMatchObject({ status: 'adopted' });
    expect(adopted.body.device.rejection).toBeUndefined();
    expect((await audit('device.adopt')).find((e) => e.target === 'rogue-1')?.detail).toMatchObject({ was: expect.objectContaining({ status: 'rejected' }) });
    const fire = g.event('rogue-1', 'fire.alarm', {});
    await gw.publishAsync(gatewayTopic(GW, 'up'), g.batch([fire]), { qos: 1 });
    await eventually(async () => (await api<{ alarms: Array<{ device: string }> }>(t.hub, admin, '/api/alarms?type=fire.alarm')).body.alarms.some((a) => a.device === 'rogue-1'), 'the adopted device raises its alarm');
  });
});
