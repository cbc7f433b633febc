import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { gatewayTopic } from '@warden/contract';
import { ackWatcher, api, connectGateway, eventually, FakeGatewayBatches, inventory, login, registered, testHub, type TestHub } from '../helpers.ts';

/**
 * Facilities edit a lighting schedule's weekly plan through the running hub: the plan is stored in SQLite
 * (it outlives a restart and wins over the config), the runner applies it at once with an actuator.set
 * the gateway confirms, and the edit is audited with its author and the plan before and after. The audit
 * route lets facilities read the energy entries only.
 */
const ALL_DAY = (level: number) => Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ from: '00:00', to: '24:00', level }]]));
const CONFIG = {
  users: [
    { username: 'fac', roles: ['facilities'], password: 'facilities-password' },
    { username: 'sec', roles: ['security'], password: 'security-password' },
  ],
  energy: { schedules: [{ id: 'light-a', circuits: ['relay-a'], term: ALL_DAY(80) }] },
  ...registered({ 'gw-edit': { password: 'edit-gateway-password', devices: [{ id: 'relay-a', kind: 'actuator', building: 'teach-a' }] } }),
};
let t: TestHub;
let gw: MqttClient | undefined;
let fac: string;
let admin: string;
const commands: Array<{ id: string; device: string; action: string; params: Record<string, unknown> }> = [];
const g = new FakeGatewayBatches('gw-edit');

async function start(dataDir?: string): Promise<void> {
  t = await testHub(CONFIG, dataDir);
  if (!dataDir) await t.hub.provisionGateway('gw-edit', 'Schedule edits', 'edit-gateway-password');
  gw = await connectGateway(t.hub.mqttUrl, 'gw-edit', 'edit-gateway-password');
  const acks = await ackWatcher(gw, 'gw-edit');
  gw.on('message', (topic, payload) => {
    if (topic === gatewayTopic('gw-edit', 'cmd')) commands.push(JSON.parse(payload.toString()));
  });
  await gw.subscribeAsync(gatewayTopic('gw-edit', 'cmd'), { qos: 1 });
  await gw.publishAsync(gatewayTopic('gw-edit', 'inventory'), inventory('gw-edit', [{ id: 'relay-a', kind: 'actuator', building: 'teach-a' }]), { qos: 1, retain: true });
  await gw.publishAsync(gatewayTopic('gw-edit', 'up'), g.batch([g.event('relay-a', 'device.online')]), { qos: 1 });
  await acks.until(g.seq);
  fac = await login(t.hub, 'fac', 'facilities-password');
  admin = await login(t.hub);
}

beforeAll(() => start());

let restartedDir: string | undefined;
afterAll(async () => {
  await gw?.endAsync();
  await t?.close();
  // The restarted hub was given the first one's directory, so its close leaves it in place.
  if (restartedDir) await rm(restartedDir, { recursive: true, force: true });
});

type Status = { circuits: Array<{ circuit: string; wanted: { on: boolean; level: number }; sent: { level: number; confirmed: boolean | null } | null }>; schedules: Array<{ id: string; term: unknown; edited?: { by: string } }> };
type Audit = { entries: Array<{ actor: string; action: string; target: string; detail: Record<string, unknown> }> };

describe('editing a weekly schedule', () => {
  it('stores the plan, sends the changed state to the actuator, tracks its confirmation and audits before/after', async () => {
    const r = await api<{ schedule: { id: string; term: unknown; edited: { by: string } }; circuits: Status['circuits'] }>(t.hub, fac, '/api/energy/schedules/light-a', {
      method: 'PUT',
      body: { term: ALL_DAY(40) },
    });
    expect(r.status).toBe(200);
    expect(r.body.schedule).toMatchObject({ id: 'light-a', term: ALL_DAY(40), edited: { by: 'fac' } });
    expect(r.body.circuits[0]).toMatchObject({ circuit: 'relay-a', wanted: { on: true, level: 40 }, sent: { level: 40, confirmed: null } });
    const cmd = await eventually(() => commands.find((c) => c.device === 'relay-a' && c.params.level === 40), 'actuator.set level 40');
    expect(cmd).toMatchObject({ action: 'actuator.set', params: { on: true, level: 40 } });
    await gw!.publishAsync(gatewayTopic('gw-edit', 'up'), g.batch([g.event('relay-a', 'command.result', { command: cmd.id, action: 'actuator.set', ok: true })]), { qos: 1 });
    await eventually(async () => (await api<Status>(t.hub, fac, '/api/energy/schedules')).body.circuits[0]?.sent?.confirmed === true, 'confirmation');

    const st = (await api<Status>(t.hub, fac, '/api/energy/schedules')).body;
    expect(st.schedules[0]).toMatchObject({ term: ALL_DAY(40), edited: { by: 'fac' } });
    const audit = (await api<Audit>(t.hub, admin, '/api/audit?action=schedule.edit')).body.entries;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'fac', action: 'schedule.edit', target: 'light-a', detail: { before: { term: ALL_DAY(80) }, after: { term: ALL_DAY(40) } } });
  });

  it('refuses bad plans, unknown schedules and other roles', async () => {
    const put = (token: string, id: string, body: unknown) => api(t.hub, token, `/api/energy/schedules/${id}`, { method: 'PUT', body });
    expect((await put(fac, 'light-a', { term: { mon: [{ from: '22:00', to: '07:00' }] } })).status).toBe(400);
    expect((await put(fac, 'light-a', { term: { mon: [{ from: '07:00', to: '12:00' }, { from: '11:00', to: '13:00' }] } })).status).toBe(400);
    expect((await put(fac, 'light-a', { term: { mon: [{ from: '7:00', to: '12:00' }] } })).status).toBe(400);
    expect((await put(fac, 'light-a', { term: {}, circuits: ['relay-b'] })).status).toBe(400);
    expect((await put(fac, 'light-a', { term: { someday: [] } })).status).toBe(400);
    expect((await put(fac, 'nope', { term: {} })).status).toBe(404);
    const sec = await login(t.hub, 'sec', 'security-password');
    expect((await put(sec, 'light-a', { term: {} })).status).toBe(403);
    // Nothing of the refused edits was stored or audited.
    expect((await api<Status>(t.hub, fac, '/api/energy/schedules')).body.schedules[0]).toMatchObject({ term: ALL_DAY(40) });
    expect((await api<Audit>(t.hub, admin, '/api/audit?action=schedule.edit')).body.entries).toHaveLength(1);
    const metrics = (await api<string>(t.hub, null, '/api/metrics')).body;
    expect(metrics).toContain('warden_hub_schedule_edits_total{result="applied"} 1');
    expect(metrics).toContain('warden_hub_schedule_edits_total{result="400"} 5');
    expect(metrics).toContain('warden_hub_schedule_edits_total{result="404"} 1');
    expect(metrics).toContain('warden_hub_schedule_edits_total{result="403"} 1');
  });

  it('lets facilities read the energy audit entries only; admin reads everything, filtered by action prefix on request', async () => {
    const facAll = (await api<Audit>(t.hub, fac, '/api/audit?limit=500')).body.entries;
    expect(facAll.length).toBeGreaterThan(0);
    expect(facAll.every((e) => e.action.startsWith('schedule.') || e.action.startsWith('demand.'))).toBe(true);
    expect(facAll.map((e) => e.action)).toEqual(expect.arrayContaining(['schedule.edit', 'schedule.command', 'schedule.confirmed']));
    expect((await api<Audit>(t.hub, fac, '/api/audit?action=gateway.')).body.entries).toEqual([]);
    expect((await api<Audit>(t.hub, fac, '/api/audit?action=sched')).body.entries.length).toBe(facAll.length);
    const adminAll = (await api<Audit>(t.hub, admin, '/api/audit?limit=500')).body.entries;
    expect(adminAll.some((e) => e.action === 'gateway.create')).toBe(true);
    expect((await api<Audit>(t.hub, admin, '/api/audit?action=gateway.,schedule.edit')).body.entries.map((e) => e.action).sort()).toEqual(['gateway.create', 'schedule.edit']);
    expect((await api(t.hub, admin, '/api/audit?action=bad%20prefix')).status).toBe(400);
    const sec = await login(t.hub, 'sec', 'security-password');
    expect((await api(t.hub, sec, '/api/audit')).status).toBe(403);
  });

  it('keeps the edited plan over the config across a restart', async () => {
    const dir = t.dataDir;
    restartedDir = dir;
    await gw?.endAsync();
    await t.hub.stop();
    await start(dir);
    const st = (await api<Status>(t.hub, fac, '/api/energy/schedules')).body;
    expect(st.schedules[0]).toMatchObject({ id: 'light-a', term: ALL_DAY(40), edited: { by: 'fac' } });
    expect(st.circuits[0]).toMatchObject({ wanted: { on: true, level: 40 } });
  });
});
