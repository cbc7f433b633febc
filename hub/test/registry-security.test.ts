import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayTopic } from '@warden/contract';
import { FakeGatewayBatches, ackWatcher, api, connectGateway, eventually, inventory, login, metric, testHub, type TestHub } from './helpers.ts';

/*
 * Issue 9, "a gateway decides what its devices are", written as the attack: gateway gw-a (building A) relabels its
 * smoke detector into building B through its retained inventory and sends fire.alarm, hoping the fire linkage
 * releases building B's doors (which belong to gw-b). The hub's registry (config devices.registry) owns kind,
 * building and zone, so the relabel is refused and counted, and only building A's doors are released.
 */
describe('hub-owned device registry (issue 9)', () => {
  let t: TestHub;
  let gwA: MqttClient;
  let gwB: MqttClient;
  let token: string;
  const commandsTo: Record<string, Array<{ device: string; action: string }>> = { 'gw-a': [], 'gw-b': [] };
  const a = new FakeGatewayBatches('gw-a');
  const rejected = (reason: string) => metric(t.hub, 'warden_hub_rejected_total', { reason });
  const deadLetters = () => {
    const db = new Database(join(t.dataDir, 'state.db'), { readonly: true });
    try {
      return db.prepare('SELECT reason, detail FROM dead_letters ORDER BY rowid').all() as Array<{ reason: string; detail: string }>;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    t = await testHub({
      gateways: [
        { id: 'gw-a', name: 'Building A', password: 'gateway-a-password' },
        { id: 'gw-b', name: 'Building B', password: 'gateway-b-password' },
      ],
      // The secure default: inventories only propose. The hub registers what each device is and where.
      devices: {
        registry: [
          { id: 'smoke-a1', gateway: 'gw-a', kind: 'fire_sensor', building: 'bldg-a' },
          { id: 'door-a1', gateway: 'gw-a', kind: 'door', building: 'bldg-a' },
          { id: 'door-b1', gateway: 'gw-b', kind: 'door', building: 'bldg-b' },
        ],
      },
      alarms: { evacuationRoutes: { 'bldg-a': ['door-a1'], 'bldg-b': ['door-b1'] } },
    });
    gwA = await connectGateway(t.hub.mqttUrl, 'gw-a', 'gateway-a-password');
    gwB = await connectGateway(t.hub.mqttUrl, 'gw-b', 'gateway-b-password');
    for (const [gw, client] of [['gw-a', gwA], ['gw-b', gwB]] as const) {
      await client.subscribeAsync(gatewayTopic(gw, 'cmd'), { qos: 1 });
      client.on('message', (topic, payload: Buffer) => {
        if (topic === gatewayTopic(gw, 'cmd')) commandsTo[gw]!.push(JSON.parse(payload.toString()) as { device: string; action: string });
      });
    }
    await gwB.publishAsync(gatewayTopic('gw-b', 'inventory'), inventory('gw-b', [{ id: 'door-b1', kind: 'door', building: 'bldg-b' }]), { qos: 1, retain: true });
    token = await login(t.hub);
  });
  afterAll(async () => {
    await gwA?.endAsync();
    await gwB?.endAsync();
    await t?.close();
  });

  it('an inventory cannot relabel an adopted device: refused, counted, logged as a dead letter', async () => {
    // The compromised gateway claims its smoke detector stands in building B, zone "lobby".
    await gwA.publishAsync(
      gatewayTopic('gw-a', 'inventory'),
      inventory('gw-a', [
        { id: 'smoke-a1', kind: 'fire_sensor', building: 'bldg-b' },
        { id: 'door-a1', kind: 'door', building: 'bldg-a' },
        // And proposes a "smoke detector" of its own in building B, plus one claiming to be door-b1 (gw-b's).
        { id: 'fake-smoke', kind: 'fire_sensor', building: 'bldg-b' },
        { id: 'door-b1', kind: 'door', building: 'bldg-b' },
      ]),
      { qos: 1, retain: true },
    );
    await eventually(async () => (await rejected('relabel_refused')) === 1, 'relabel counted');
    expect(await rejected('wrong_gateway')).toBe(1); // door-b1 is gw-b's
    expect(deadLetters().find((d) => d.reason === 'relabel_refused')?.detail).toMatch(/smoke-a1.*building "bldg-a" -> "bldg-b"/);

    const { body } = await api<{ devices: Array<{ id: string; building: string | null; kind: string; gateway: string; status: string }> }>(t.hub, token, '/api/devices');
    const byId = Object.fromEntries(body.devices.map((d) => [d.id, d]));
    expect(byId['smoke-a1']).toMatchObject({ building: 'bldg-a', kind: 'fire_sensor', gateway: 'gw-a', status: 'adopted' });
    expect(byId['door-b1']).toMatchObject({ building: 'bldg-b', gateway: 'gw-b', status: 'adopted' });
    expect(byId['fake-smoke']).toMatchObject({ status: 'proposed', gateway: 'gw-a' });
    const proposed = await api<{ devices: Array<{ id: string }> }>(t.hub, token, '/api/devices?status=proposed');
    expect(proposed.body.devices.map((d) => d.id)).toEqual(['fake-smoke']);
  });

  it("a relabelled smoke detector's fire.alarm releases its own building's doors, never the other building's", async () => {
    const acks = await ackWatcher(gwA, 'gw-a');
    const fire = a.event('smoke-a1', 'fire.alarm', {});
    // A proposed device, a door and an unknown device cannot raise fire either.
    const fromProposal = a.event('fake-smoke', 'fire.alarm', {});
    const fromDoor = a.event('door-a1', 'fire.alarm', {});
    const intrusionFromDoor = a.event('door-a1', 'intrusion.alarm', {});
    await gwA.publishAsync(gatewayTopic('gw-a', 'up'), a.batch([fire, fromProposal, fromDoor, intrusionFromDoor]), { qos: 1 });
    await acks.until(a.seq);

    expect(await rejected('device_not_adopted')).toBe(1);
    expect(await rejected('kind_mismatch')).toBe(2);
    expect(deadLetters().find((d) => d.reason === 'kind_mismatch')?.detail).toMatch(/fire\.alarm from door-a1, registered as door: only fire_sensor may raise it/);

    const alarms = await eventually(async () => {
      const r = await api<{ alarms: Array<{ type: string; device: string; building: string | null }> }>(t.hub, token, '/api/alarms?type=fire.alarm');
      return r.body.alarms.length ? r.body.alarms : undefined;
    }, 'fire alarm raised');
    expect(alarms).toEqual([expect.objectContaining({ device: 'smoke-a1', building: 'bldg-a' })]);
    await eventually(() => commandsTo['gw-a']!.some((c) => c.device === 'door-a1' && c.action === 'door.hold_open'), 'building A evacuation door released');
    await new Promise((r) => setTimeout(r, 500));
    expect(commandsTo['gw-b']).toEqual([]); // building B's doors stay as they were
  });

  it('an admin adopts a proposed device (audited); from then on the hub, not the inventory, says what it is', async () => {
    const res = await api<{ device: { id: string; status: string; kind: string; building: string | null } }>(t.hub, token, '/api/devices/fake-smoke/adopt', {
      method: 'POST',
      body: { kind: 'fire_sensor', building: 'bldg-a', zone: 'z1' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.device).toMatchObject({ id: 'fake-smoke', status: 'adopted', kind: 'fire_sensor', building: 'bldg-a' });
    const audit = await api<{ entries: Array<{ action: string; target: string }> }>(t.hub, token, '/api/audit');
    expect(audit.body.entries.some((e) => e.action === 'device.adopt' && e.target === 'fake-smoke')).toBe(true);
    // Unknown devices cannot be adopted.
    expect((await api(t.hub, token, '/api/devices/nope/adopt', { method: 'POST', body: { kind: 'door' } })).status).toBe(404);
  });
});
