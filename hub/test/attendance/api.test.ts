import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import type { MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayTopic, type AttendanceLive, type HubEvent, type Leave, type NightList, type RosterImportResult, type StudentHistory, type TonightBoard } from '@warden/contract';
import { localInstant } from '../../src/attendance/tz.ts';
import { parseHubConfig, startHub, type Hub } from '../../src/index.ts';
import { ADMIN_PASSWORD, FakeGatewayBatches, ackWatcher, api, connectGateway, eventually, inventory, login } from '../helpers.ts';

const TZ = 'Asia/Shanghai';
const at = (date: string, hhmm: string, nextDay = false) => {
  const [h, m] = hhmm.split(':').map(Number);
  return localInstant(date, h! * 60 + m! + (nextDay ? 1440 : 0), TZ);
};
const NIGHT = '2026-11-30'; // a Monday

const ROSTER = `student_id,name,building,floor,room
s1,Li Wei,B1,3,301
s2,Wang Fang,B1,3,301
s3,Zhang Min,B1,4,402
s4,Chen Jie,B2,1,101
s5,Zhou Yu,B2,1,102
`;
const PW = 'gateway-password-1';
const USER_PW = 'dorm-password-1';

let dir: string;
let hub: Hub;
let now = at(NIGHT, '18:00');
let admin: string;
let dm1: string;
let dm2: string;
const gws: Record<string, { client: MqttClient; batches: FakeGatewayBatches; acks: Awaited<ReturnType<typeof ackWatcher>> }> = {};
const sockets: Socket[] = [];

async function gateway(id: string, device: string, building: string) {
  const client = await connectGateway(hub.mqttUrl, id, PW);
  const acks = await ackWatcher(client, id);
  await client.publishAsync(gatewayTopic(id, 'inventory'), inventory(id, [{ id: device, kind: 'face_terminal', building }]), { qos: 1, retain: true });
  gws[id] = { client, batches: new FakeGatewayBatches(id), acks };
}

async function checkins(gw: string, device: string, list: Array<[string, 'in' | 'out', number]>) {
  const g = gws[gw]!;
  const records = list.map(([person, direction, ts]) => g.batches.event(device, 'attendance.checkin', { method: 'face', person, direction, score: 0.82 }, ts));
  await g.client.publishAsync(gatewayTopic(gw, 'up'), g.batches.batch(records), { qos: 1 });
  await g.acks.until(g.batches.seq);
}

function listen(token: string): { messages: Array<[string, unknown]>; socket: Socket } {
  const socket = io(hub.httpUrl, { auth: { token }, transports: ['websocket'] });
  sockets.push(socket);
  const messages: Array<[string, unknown]> = [];
  socket.onAny((name: string, msg: unknown) => messages.push([name, msg]));
  return { messages, socket };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-attendance-api-'));
  hub = await startHub(
    parseHubConfig({
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir: dir,
      admin: { password: ADMIN_PASSWORD },
      dashboard: { dir: join(dir, 'no-dist') },
      gateways: [
        { id: 'gw-b1', password: PW },
        { id: 'gw-b2', password: PW },
      ],
      users: [
        { username: 'dm1', roles: ['dorm'], password: USER_PW },
        { username: 'dm2', roles: ['dorm'], password: USER_PW },
      ],
      faces: { dormManagers: { dm1: ['B1'], dm2: ['B2'] } },
      // The hub owns the registry: each dorm's check-in point is registered; the gateways' inventories only report them.
      devices: {
        registry: [
          { id: 'b1-gate', gateway: 'gw-b1', kind: 'face_terminal', building: 'B1' },
          { id: 'b2-gate', gateway: 'gw-b2', kind: 'face_terminal', building: 'B2' },
        ],
      },
    }),
    { logger: false, clock: () => now },
  );
  admin = await login(hub);
  dm1 = await login(hub, 'dm1', USER_PW);
  dm2 = await login(hub, 'dm2', USER_PW);
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  for (const g of Object.values(gws)) await g.client.endAsync();
  await hub?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('attendance through the hub', () => {
  it('admin sets the calendar and imports the roster (preview, then apply); dorm managers may not', async () => {
    const settings = await api(hub, admin, '/api/attendance/settings', {
      method: 'PUT',
      body: { curfew: { weekday: '23:00', weekend: '23:30', holiday: '23:30', exam: '22:30' }, reportDelayMinutes: 30, reportCheckSeconds: 1 },
    });
    expect(settings.status).toBe(200);
    expect(settings.body).toMatchObject({ timeZone: 'Asia/Shanghai', dayStart: '06:00' });
    expect((await api(hub, dm1, '/api/attendance/settings', { method: 'PUT', body: {} })).status).toBe(403);
    expect((await api(hub, admin, '/api/attendance/settings', { method: 'PUT', body: { timeZone: 'Nowhere/City' } })).status).toBe(400);

    const data = Buffer.from(ROSTER).toString('base64');
    const preview = await api<RosterImportResult>(hub, admin, '/api/attendance/roster', { method: 'POST', body: { format: 'csv', data, effective: '2026-09-01', apply: false } });
    expect(preview.body).toMatchObject({ ok: true, applied: false, diff: { rows: 5 } });
    expect(preview.body.ok && preview.body.diff.added).toHaveLength(5);
    expect((await api(hub, dm1, '/api/attendance/roster', { method: 'POST', body: { format: 'csv', data, effective: '2026-09-01', apply: true } })).status).toBe(403);
    const bad = await api<RosterImportResult>(hub, admin, '/api/attendance/roster', {
      method: 'POST',
      body: { format: 'csv', data: Buffer.from('student_id,name,building,floor,room\ns9,,B1,1,1\n').toString('base64'), effective: '2026-09-01', apply: true },
    });
    expect(bad.body).toEqual({ ok: false, errors: [{ row: 2, column: 'name', reason: 'name is empty' }] });
    const applied = await api<RosterImportResult>(hub, admin, '/api/attendance/roster', { method: 'POST', body: { format: 'csv', data, effective: '2026-09-01', apply: true } });
    expect(applied.body).toMatchObject({ ok: true, applied: true });
    expect((await api(hub, dm1, '/api/attendance/buildings')).body).toEqual({ buildings: ['B1'] });
    expect((await api(hub, admin, '/api/attendance/buildings')).body).toEqual({ buildings: ['B1', 'B2'] });
  });

  it('check-ins from gateways fill the board; each dorm manager sees only their building, in the API and the live feed', async () => {
    await gateway('gw-b1', 'b1-gate', 'B1');
    await gateway('gw-b2', 'b2-gate', 'B2');
    const live1 = listen(dm1);
    const live2 = listen(dm2);
    const liveAdmin = listen(admin);
    await Promise.all([live1, live2, liveAdmin].map((l) => eventually(() => l.socket.connected, 'live connection')));

    now = at(NIGHT, '20:00');
    await checkins('gw-b1', 'b1-gate', [
      ['s1', 'out', at(NIGHT, '08:00')],
      ['s1', 'in', at(NIGHT, '21:00')],
      ['s2', 'out', at(NIGHT, '08:10')],
      ['s3', 'out', at(NIGHT, '09:00')],
    ]);
    await checkins('gw-b2', 'b2-gate', [
      ['s4', 'out', at(NIGHT, '07:30')],
      ['s5', 'out', at(NIGHT, '07:40')],
      ['s5', 'in', at(NIGHT, '22:10')],
    ]);
    // B2's gateway drops off 21:30-22:00: s4, never seen coming back, is unknown rather than absent.
    now = at(NIGHT, '21:30');
    await gws['gw-b2']!.client.endAsync();
    await eventually(async () => (await api<{ gateways: Array<{ id: string; online: boolean }> }>(hub, admin, '/api/gateways')).body.gateways.find((g) => g.id === 'gw-b2')?.online === false, 'gw-b2 offline');
    now = at(NIGHT, '22:00');
    await gateway('gw-b2', 'b2-gate', 'B2');

    now = at(NIGHT, '23:05');
    await checkins('gw-b1', 'b1-gate', [['s2', 'in', at(NIGHT, '23:05')]]);
    const board1 = await api<TonightBoard>(hub, dm1, `/api/attendance/board?night=${NIGHT}`);
    expect(board1.status).toBe(200);
    expect(board1.body.buildings.map((b) => b.building)).toEqual(['B1']);
    const states = (b: TonightBoard) => Object.fromEntries(b.buildings.flatMap((x) => x.floors.flatMap((f) => f.rooms.flatMap((r) => r.students.map((s) => [s.student, s.state])))));
    expect(states(board1.body)).toEqual({ s1: 'in', s2: 'late', s3: 'absent' });
    expect(states((await api<TonightBoard>(hub, dm2, `/api/attendance/board?night=${NIGHT}`)).body)).toEqual({ s4: 'unknown', s5: 'in' });
    expect(Object.keys(states((await api<TonightBoard>(hub, admin, `/api/attendance/board?night=${NIGHT}`)).body)).sort()).toEqual(['s1', 's2', 's3', 's4', 's5']);
    // Another building's student: no history, no leave, not in the list.
    expect((await api(hub, dm2, '/api/attendance/students/s3')).status).toBe(404);
    expect((await api(hub, dm2, '/api/attendance/leaves', { method: 'POST', body: { student: 's3', from: NIGHT, to: NIGHT, reason: 'x', approve: true } })).status).toBe(404);
    expect((await api<NightList>(hub, dm2, `/api/attendance/exceptions?night=${NIGHT}&building=B1`)).body.rows).toEqual([]);

    // Curfew + 30 min: the list is pushed live, each manager their own building only.
    now = at(NIGHT, '23:31');
    const report = (l: typeof live1, b: string) => l.messages.find(([n, m]) => n === 'attendance' && (m as AttendanceLive).kind === 'report' && (m as AttendanceLive).building === b);
    await eventually(() => report(live1, 'B1') && report(live2, 'B2') && report(liveAdmin, 'B1') && report(liveAdmin, 'B2'), 'curfew reports', 10_000);
    const r1 = report(live1, 'B1')![1] as Extract<AttendanceLive, { kind: 'report' }>;
    expect(r1.rows.map((r) => `${r.student}:${r.state}`).sort()).toEqual(['s2:late', 's3:absent']);
    // Nothing about the other building reached either manager: not the report, not a check-in event.
    const mentions = (l: typeof live1, ids: string[]) => l.messages.filter(([, m]) => ids.some((id) => JSON.stringify(m).includes(`"${id}"`)));
    expect(mentions(live1, ['s4', 's5', 'B2'])).toEqual([]);
    expect(mentions(live2, ['s1', 's2', 's3', 'B1'])).toEqual([]);
    expect(live1.messages.some(([n, m]) => n === 'event' && (m as HubEvent).type === 'attendance.checkin' && (m as HubEvent).data.person === 's2')).toBe(true);
    expect(liveAdmin.messages.some(([n, m]) => n === 'event' && (m as HubEvent).data.person === 's5')).toBe(true);
  });

  it('a dorm manager approves leave and the reported night changes visibly (audited)', async () => {
    const created = await api<Leave>(hub, dm1, '/api/attendance/leaves', { method: 'POST', body: { student: 's3', from: NIGHT, to: '2026-12-01', reason: 'home for a funeral' } });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('requested');
    expect((await api(hub, dm2, `/api/attendance/leaves/${created.body.id}/approve`, { method: 'POST' })).status).toBe(404);
    const approved = await api<Leave>(hub, dm1, `/api/attendance/leaves/${created.body.id}/approve`, { method: 'POST' });
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: 'dm1' });
    const hist = await api<StudentHistory>(hub, dm1, '/api/attendance/students/s3');
    expect(hist.body.nights.find((n) => n.night === NIGHT)).toMatchObject({ state: 'leave', revision: 1, previousState: 'absent' });
    expect((await api(hub, dm1, `/api/attendance/leaves/${created.body.id}/approve`, { method: 'POST' })).status).toBe(409);
    const audit = await api<{ entries: Array<{ action: string; actor: string }> }>(hub, admin, '/api/audit?action=attendance.');
    expect(audit.body.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['attendance.leave_request', 'attendance.leave_approve', 'attendance.roster_import', 'attendance.settings']));
  });

  it('a late outbox batch corrects the reported night; the correction is visible', async () => {
    now = at(NIGHT, '01:30', true);
    // s2 actually came in at 22:55 through a second B1 point whose gateway delivered its outbox only now.
    await checkins('gw-b1', 'b1-gate', [['s2', 'in', at(NIGHT, '22:55')]]);
    const hist = await api<StudentHistory>(hub, dm1, `/api/attendance/students/s2?to=${NIGHT}`);
    expect(hist.body.nights[0]).toMatchObject({ night: NIGHT, state: 'in', revision: 1, previousState: 'late', correctedAt: now });
  });

  it('exports the curfew list as XLSX and CSV that read back, scoped', async () => {
    const res = await fetch(`${hub.httpUrl}/api/attendance/export?night=${NIGHT}&format=xlsx`, { headers: { authorization: `Bearer ${dm1}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/spreadsheetml/);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await res.arrayBuffer());
    const rows: string[][] = [];
    wb.worksheets[0]!.eachRow((r) => rows.push((r.values as unknown[]).slice(1).map(String)));
    expect(rows[0]!.slice(0, 7)).toEqual(['night', 'building', 'floor', 'room', 'student', 'name', 'state']);
    // After the leave and the correction, B1 has no one late or absent; all=true lists everyone of B1.
    expect(rows).toHaveLength(1);
    const all = await fetch(`${hub.httpUrl}/api/attendance/export?night=${NIGHT}&format=csv&all=true`, { headers: { authorization: `Bearer ${dm1}` } });
    const csv = (await all.text()).replace(/^\uFEFF/, '').trim().split('\r\n');
    expect(csv.slice(1).map((l) => l.split(',')[4]).sort()).toEqual(['s1', 's2', 's3']);
    const csv2 = await fetch(`${hub.httpUrl}/api/attendance/export?night=${NIGHT}&format=csv`, { headers: { authorization: `Bearer ${dm2}` } });
    expect((await csv2.text()).split('\r\n').filter(Boolean).slice(1).map((l) => l.split(',')[4])).toEqual(['s4']);
  });

  it('summaries per building with the weekly trend, scoped', async () => {
    const sum = await api<{ buildings: Array<{ building: string; counts: Record<string, number>; trend: Array<{ week: string }> }> }>(hub, dm2, `/api/attendance/summary?period=week&night=${NIGHT}`);
    expect(sum.status).toBe(200);
    expect(sum.body.buildings.map((b) => b.building)).toEqual(['B2']);
    expect(sum.body.buildings[0]!.counts).toMatchObject({ unknown: 1, in: 1 });
    expect(sum.body.buildings[0]!.trend.map((t) => t.week)).toEqual(['2026-11-30']);
  });

  it('sends the curfew list to a WeCom robot the next night', async () => {
    const got: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push(JSON.parse(body));
        res.end('{"errcode":0,"errmsg":"ok"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cgi-bin/webhook/send?key=test`;
      const cur = (await api<Record<string, unknown>>(hub, admin, '/api/attendance/settings')).body;
      expect((await api(hub, admin, '/api/attendance/settings', { method: 'PUT', body: { ...cur, webhooks: [{ kind: 'wecom', url, buildings: ['B2'] }] } })).status).toBe(200);
      now = at('2026-12-01', '23:31');
      await eventually(() => got.length >= 1, 'webhook post', 10_000);
      expect(got[0]).toMatchObject({ msgtype: 'markdown', markdown: { content: expect.stringContaining('B2 2026-12-01') } });
      expect(JSON.stringify(got[0])).not.toContain('Li Wei');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
