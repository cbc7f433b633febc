import { gatewayTopic, type Command } from '@warden/contract';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../src/alarms/types.ts';
import { api, connectGateway, eventually, FakeGatewayBatches, inventory, login, metric, registered, status, testHub, type TestHub } from '../helpers.ts';

type Detail = Alarm & { timeline: Array<{ ts: number; kind: string; detail?: Record<string, unknown> }> };

const GW = 'gw-a';
const PASSWORD = 'gw-a-password-123';
const DEVICES = [
  { id: 'smoke-1', kind: 'fire_sensor', building: 'lib', zone: 'lib-1f' },
  { id: 'door-1', kind: 'door', building: 'lib', zone: 'lib-1f' },
  { id: 'smoke-2', kind: 'fire_sensor', building: 'lab' },
  { id: 'door-2', kind: 'door', building: 'lab' },
  { id: 'smoke-3', kind: 'fire_sensor', building: 'gym' },
  { id: 'door-3', kind: 'door', building: 'gym' },
];

/**
 * Linkage retried on the hub's timer (alarms.linkageRetry): a real hub whose clock the test moves on (the alarm tick
 * runs each real second and reads it), and a real MQTT gateway client that answers the linkage commands.
 */
describe('linkage retries on a timer', () => {
  let t: TestHub;
  let admin: string;
  let gw: MqttClient;
  let offset = 0;
  const clock = () => Date.now() + offset;
  const commands: Command[] = [];
  const batches = new FakeGatewayBatches(GW);
  const send = (device: string, type: string, data: Record<string, unknown> = {}) =>
    gw.publishAsync(gatewayTopic(GW, 'up'), batches.batch([batches.event(device, type, data)]), { qos: 1 });
  const answer = (c: Command, ok: boolean, error?: string) =>
    send(c.device, 'command.result', { command: c.id, action: c.action, ok, ...(error ? { error } : {}) });
  const to = (device: string) => commands.filter((c) => c.device === device);
  const detail = async (id: string) => (await api<Detail>(t.hub, admin, `/api/alarms/${id}`)).body;
  const fire = async (detector: string) => {
    await send(detector, 'fire.alarm', { smoke: 0.4 });
    return eventually(async () => (await api<{ alarms: Alarm[] }>(t.hub, admin, `/api/alarms?device=${detector}`)).body.alarms[0], `${detector} alarm`);
  };
  const retries = (result: string) => metric(t.hub, 'warden_hub_linkage_retries_total', { result });

  beforeAll(async () => {
    t = await testHub(
      {
        alarms: { linkage: [{ type: 'fire.alarm', holdOpen: 'all', cameras: false }] },
        commands: { ttl: '30s' },
        ...registered({ [GW]: { password: PASSWORD, devices: DEVICES } }),
      },
      undefined,
      clock,
    );
    admin = await login(t.hub);
    gw = await connectGateway(t.hub.mqttUrl, GW, PASSWORD);
    gw.on('message', (topic, payload) => {
      if (topic === gatewayTopic(GW, 'cmd')) commands.push(JSON.parse(payload.toString()) as Command);
    });
    await gw.subscribeAsync(gatewayTopic(GW, 'cmd'), { qos: 1 });
    await gw.publishAsync(gatewayTopic(GW, 'status'), status(GW, 'online'), { qos: 1, retain: true });
    await gw.publishAsync(gatewayTopic(GW, 'inventory'), inventory(GW, DEVICES), { qos: 1, retain: true });
  });
  afterAll(async () => {
    await gw?.endAsync();
    await t?.close();
  });

  it('a door that answers ok:false is retried after 5 s, then 15 s, each on the timeline and audited, until it answers ok:true', async () => {
    const alarm = await fire('smoke-1');
    const first = await eventually(() => to('door-1')[0], 'door.hold_open sent');
    expect(first.action).toBe('door.hold_open');

    let failedAt = clock();
    await answer(first, false, 'device offline');
    await eventually(async () => (await detail(alarm.id)).timeline.some((e) => e.kind === 'linkage.result' && e.detail!.ok === false), 'failure on the timeline');
    await eventually(async () => (await retries('scheduled')) === 1, 'retry scheduled');
    expect(to('door-1')).toHaveLength(1); // not resent at once
    offset += 5_000;
    const second = await eventually(() => to('door-1')[1], 'first retry');
    expect(second.id).not.toBe(first.id);
    expect(second.ts - failedAt).toBeGreaterThanOrEqual(5_000);
    expect(await retries('sent')).toBe(1);

    failedAt = clock();
    await answer(second, false, 'timeout');
    await eventually(async () => (await retries('failed')) === 1, 'retry failure counted');
    offset += 5_000;
    await new Promise((r) => setTimeout(r, 1_500)); // a tick or two: the second wait is 15 s
    expect(to('door-1')).toHaveLength(2);
    offset += 10_000;
    const third = await eventually(() => to('door-1')[2], 'second retry');
    expect(third.ts - failedAt).toBeGreaterThanOrEqual(15_000);

    await answer(third, true);
    await eventually(async () => (await retries('ok')) === 1, 'retry success counted');
    // Done: nothing more, however long the alarm stays open.
    offset += 10 * 60_000;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(to('door-1')).toHaveLength(3);

    const d = await detail(alarm.id);
    const sent = d.timeline.filter((e) => e.kind === 'linkage.command' && e.detail!.device === 'door-1');
    expect(sent.map((e) => [e.detail!.commandId, e.detail!.retry ?? 0])).toEqual([
      [first.id, 0],
      [second.id, 1],
      [third.id, 2],
    ]);
    expect(d.timeline.filter((e) => e.kind === 'linkage.result').map((e) => e.detail!.ok)).toEqual([false, false, true]);
    const audit = (await api<{ entries: Array<{ actor: string; action: string; target: string; detail: Record<string, unknown> }> }>(t.hub, admin, '/api/audit?limit=200')).body.entries;
    const linked = audit.filter((e) => e.action === 'linkage.command' && e.target === 'door-1');
    expect(linked.map((e) => e.detail.retry ?? 0).sort()).toEqual([0, 1, 2]);
    expect(linked.every((e) => e.actor === 'system:linkage')).toBe(true);
  });

  it('a command without a result is retried only after its ttl (plus grace), never within it', async () => {
    const alarm = await fire('smoke-2');
    const first = await eventually(() => to('door-2')[0], 'door-2 sent');
    // The gateway never answers. Within the ttl nothing is resent.
    offset += 25_000;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(to('door-2')).toHaveLength(1);
    offset += 15_000; // past ttl (30 s) + grace (5 s): the retry is scheduled, due 5 s later
    await eventually(async () => (await retries('scheduled')) === 3, 'retry scheduled after the ttl');
    offset += 5_000;
    const second = await eventually(() => to('door-2')[1], 'retry after the ttl');
    expect(second.ts - first.ts).toBeGreaterThanOrEqual(35_000);
    await answer(second, true);
    await eventually(async () => (await detail(alarm.id)).timeline.some((e) => e.kind === 'linkage.result' && e.detail!.commandId === second.id), 'result on the timeline');
  });

  it('retries stop when the alarm is resolved', async () => {
    const alarm = await fire('smoke-3');
    const first = await eventually(() => to('door-3')[0], 'door-3 sent');
    await answer(first, false, 'device offline');
    await eventually(async () => (await retries('scheduled')) === 4, 'retry scheduled');
    expect((await api(t.hub, admin, `/api/alarms/${alarm.id}/resolve`, { method: 'POST', body: { note: 'drill over' } })).status).toBe(200);
    expect(await retries('stopped')).toBe(1);
    const before = to('door-3').length; // 1, or 2 on a machine so slow that the 5 s retry went before the resolve
    offset += 10 * 60_000;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(to('door-3')).toHaveLength(before);
  });
});
