import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { gatewayTopic } from '@warden/contract';
import { ackWatcher, api, connectGateway, eventually, FakeGatewayBatches, inventory, login, registered, testHub, type TestHub } from '../helpers.ts';

/**
 * Facilities override a building's lighting circuit through the running hub: the actuator.set command
 * reaches the circuit's gateway over MQTT, the gateway's command.result confirms it, and the change is
 * in the audit trail with its author.
 */
let t: TestHub;
let gw: MqttClient;
let fac: string;
let admin: string;
const commands: Array<{ id: string; device: string; action: string; params: Record<string, unknown> }> = [];
const g = new FakeGatewayBatches('gw-sch');

beforeAll(async () => {
  t = await testHub({
    users: [
      { username: 'fac', roles: ['facilities'], password: 'facilities-password' },
      // Trust (issue 9): facilities scoped to building A / to building B.
      { username: 'faca', roles: ['facilities'], password: 'facilities-password', scope: { buildings: ['teach-a'] } },
      { username: 'facb', roles: ['facilities'], password: 'facilities-password', scope: { buildings: ['teach-b'] } },
    ],
    ...registered({ 'gw-sch': { password: 'schedules-gateway-password', devices: [{ id: 'relay-a-1f', kind: 'actuator', building: 'teach-a' }] } }),
    energy: {
      schedules: [{ id: 'teach-a-lighting', circuits: ['relay-a-1f'], term: { mon: [{ from: '07:00', to: '22:00' }], tue: [{ from: '07:00', to: '22:00' }], wed: [{ from: '07:00', to: '22:00' }], thu: [{ from: '07:00', to: '22:00' }], fri: [{ from: '07:00', to: '22:00' }] } }],
    },
  });
  await t.hub.provisionGateway('gw-sch', 'Schedules', 'schedules-gateway-password');
  gw = await connectGateway(t.hub.mqttUrl, 'gw-sch', 'schedules-gateway-password');
  const acks = await ackWatcher(gw, 'gw-sch');
  gw.on('message', (topic, payload) => {
    if (topic === gatewayTopic('gw-sch', 'cmd')) commands.push(JSON.parse(payload.toString()));
  });
  await gw.subscribeAsync(gatewayTopic('gw-sch', 'cmd'), { qos: 1 });
  await gw.publishAsync(gatewayTopic('gw-sch', 'inventory'), inventory('gw-sch', [{ id: 'relay-a-1f', kind: 'actuator', building: 'teach-a' }]), { qos: 1, retain: true });
  await gw.publishAsync(gatewayTopic('gw-sch', 'up'), g.batch([g.event('relay-a-1f', 'device.online')]), { qos: 1 });
  await acks.until(g.seq);
  fac = await login(t.hub, 'fac', 'facilities-password');
  admin = await login(t.hub);
});

afterAll(async () => {
  await gw?.endAsync();
  await t?.close();
});

describe('schedules through the running hub', () => {
  it('an override reaches the actuator, is confirmed and audited', async () => {
    const r = await api<{ circuit: string; wanted: { on: boolean; level: number; reason: string } }>(t.hub, fac, '/api/energy/schedules/override', {
      method: 'POST',
      body: { circuit: 'relay-a-1f', on: true, level: 60, minutes: 30 },
    });
    expect(r.status).toBe(200);
    expect(r.body.wanted).toMatchObject({ on: true, level: 60, reason: expect.stringMatching(/^override by fac until /) });
    const cmd = await eventually(() => commands.find((c) => c.device === 'relay-a-1f' && c.params.level === 60), 'actuator.set on the gateway cmd topic');
    expect(cmd).toMatchObject({ action: 'actuator.set', params: { on: true, level: 60 } });
    await gw.publishAsync(gatewayTopic('gw-sch', 'up'), g.batch([g.event('relay-a-1f', 'command.result', { command: cmd.id, action: 'actuator.set', ok: true })]), { qos: 1 });
    await eventually(async () => {
      const st = await api<{ circuits: Array<{ circuit: string; sent: { confirmed: boolean | null } | null }> }>(t.hub, fac, '/api/energy/schedules');
      return st.body.circuits[0]?.sent?.confirmed === true;
    }, 'confirmation');
    const audit = await api<{ entries: Array<{ actor: string; action: string; target: string }> }>(t.hub, admin, '/api/audit?limit=50');
    const trail = audit.body.entries.map((e) => `${e.actor} ${e.action} ${e.target}`);
    expect(trail).toContain('fac schedule.override relay-a-1f');
    expect(trail).toContain('system:schedules schedule.command relay-a-1f');
    expect(trail).toContain('system:schedules schedule.confirmed relay-a-1f');
  });

  it('scope: facilities of another building neither see nor switch nor edit building A\'s schedule', async () => {
    const [faca, facb] = [await login(t.hub, 'faca', 'facilities-password'), await login(t.hub, 'facb', 'facilities-password')];
    const list = async (tok: string) => {
      const b = (await api<{ schedules: Array<{ id: string }>; circuits: Array<{ circuit: string }> }>(t.hub, tok, '/api/energy/schedules')).body;
      return [...b.schedules.map((x) => x.id), ...b.circuits.map((c) => c.circuit)];
    };
    expect(await list(faca)).toEqual(['teach-a-lighting', 'relay-a-1f']);
    expect(await list(facb)).toEqual([]);
    expect((await api(t.hub, facb, '/api/energy/schedules/override', { method: 'POST', body: { circuit: 'relay-a-1f', on: false, minutes: 5 } })).status).toBe(403);
    const plan = { term: { mon: [{ from: '07:00', to: '22:00' }] } };
    expect((await api(t.hub, facb, '/api/energy/schedules/teach-a-lighting', { method: 'PUT', body: plan })).status).toBe(403);
  });

  it('refuses an unknown circuit and other roles', async () => {
    expect((await api(t.hub, fac, '/api/energy/schedules/override', { method: 'POST', body: { circuit: 'nope', on: true, minutes: 5 } })).status).toBe(404);
    expect((await api(t.hub, fac, '/api/energy/schedules/override', { method: 'POST', body: { circuit: 'relay-a-1f', on: true, minutes: 0 } })).status).toBe(400);
  });
});
