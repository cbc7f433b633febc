import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayTopic, type AttendanceLive, type Leave, type NightList, type StudentHistory } from '@warden/contract';
import { localInstant } from '../../src/attendance/tz.ts';
import { parseHubConfig, startHub, type Hub } from '../../src/index.ts';
import { ADMIN_PASSWORD, FakeGatewayBatches, ackWatcher, api, connectGateway, eventually, inventory, login } from '../helpers.ts';

/**
 * The counsellor role (辅导员): scope = some students by id (wherever they live) and/or dorm buildings. A counsellor
 * reads those students' attendance, enters and approves their leave, and nothing else: other students are not found,
 * every other route is 403, and the live feed carries only their students' attendance messages.
 */
const NIGHT = '2026-11-30'; // a Monday: curfew 23:00
const at = (hhmm: string) => localInstant(NIGHT, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)), 'Asia/Shanghai');
const ROSTER = `student_id,name,building,floor,room
s1,Li Wei,B1,3,301
s2,Wang Fang,B1,3,301
s3,Zhang Min,B2,1,101
s4,Chen Jie,B2,1,102
`;
const PW = 'counsellor-test-password-1';
const GW_PW = 'counsellor-gateway-pw';

let dir: string;
let hub: Hub;
let now = at('18:00');
let admin: string;
let cs: string;
let gw: MqttClient;
const sockets: Socket[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-counsellor-'));
  hub = await startHub(
    parseHubConfig({
      http: { port: 0 },
      mqtt: { port: 0 },
      dataDir: dir,
      admin: { password: ADMIN_PASSWORD },
      dashboard: { dir: join(dir, 'no-dist') },
      gateways: [{ id: 'gw-d', password: GW_PW }],
      // Counsellor of s1 (in B1) and s3 (in B2), no building of their own.
      users: [{ username: 'cs1', roles: ['counsellor'], password: PW, scope: { students: ['s1', 's3'] } }],
      devices: {
        registry: [
          { id: 'b1-gate', gateway: 'gw-d', kind: 'face_terminal', building: 'B1' },
          { id: 'b2-gate', gateway: 'gw-d', kind: 'face_terminal', building: 'B2' },
        ],
      },
    }),
    { logger: false, clock: () => now },
  );
  admin = await login(hub);
  cs = await login(hub, 'cs1', PW);
  await api(hub, admin, '/api/attendance/settings', { method: 'PUT', body: { reportDelayMinutes: 30, reportCheckSeconds: 1 } });
  await api(hub, admin, '/api/attendance/roster', { method: 'POST', body: { format: 'csv', data: Buffer.from(ROSTER).toString('base64'), effective: '2026-09-01', apply: true } });
  gw = await connectGateway(hub.mqttUrl, 'gw-d', GW_PW);
  await gw.publishAsync(gatewayTopic('gw-d', 'inventory'), inventory('gw-d', [{ id: 'b1-gate', kind: 'face_terminal', building: 'B1' }, { id: 'b2-gate', kind: 'face_terminal', building: 'B2' }]), { qos: 1, retain: true });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await gw?.endAsync();
  await hub?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('counsellor (辅导员)', () => {
  it('reads only their students, enters and approves their leave, and is refused everything else', async () => {
    const socket = io(hub.httpUrl, { auth: { token: cs }, transports: ['websocket'] });
    sockets.push(socket);
    const got: Array<[string, unknown]> = [];
    socket.onAny((name: string, msg: unknown) => got.push([name, msg]));
    await eventually(() => socket.connected, 'live connection');

    const acks = await ackWatcher(gw, 'gw-d');
    const batches = new FakeGatewayBatches('gw-d');
    now = at('20:00');
    const records = [
      batches.event('b1-gate', 'attendance.checkin', { method: 'card', person: 's1', direction: 'out', score: 1 }, at('08:00')),
      batches.event('b1-gate', 'attendance.checkin', { method: 'card', person: 's2', direction: 'out', score: 1 }, at('08:10')),
      batches.event('b2-gate', 'attendance.checkin', { method: 'card', person: 's3', direction: 'out', score: 1 }, at('08:20')),
      batches.event('b2-gate', 'attendance.checkin', { method: 'card', person: 's4', direction: 'out', score: 1 }, at('08:30')),
      batches.event('b2-gate', 'attendance.checkin', { method: 'card', person: 's4', direction: 'in', score: 1 }, at('19:30')),
    ];
    await gw.publishAsync(gatewayTopic('gw-d', 'up'), batches.batch(records), { qos: 1 });
    await acks.until(batches.seq);

    now = at('23:10');
    const list = await api<NightList>(hub, cs, `/api/attendance/exceptions?night=${NIGHT}`);
    expect(list.status).toBe(200);
    expect(list.body.rows.map((r) => `${r.student}:${r.state}`).sort()).toEqual(['s1:absent', 's3:absent']);
    expect((await api(hub, cs, '/api/attendance/buildings')).body).toEqual({ buildings: ['B1', 'B2'] });
    const board = await api<{ buildings: Array<{ floors: Array<{ rooms: Array<{ students: Array<{ student: string }> }> }> }> }>(hub, cs, `/api/attendance/board?night=${NIGHT}`);
    expect(board.body.buildings.flatMap((b) => b.floors.flatMap((f) => f.rooms.flatMap((r) => r.students.map((s) => s.student)))).sort()).toEqual(['s1', 's3']);
    expect((await api<StudentHistory>(hub, cs, '/api/attendance/students/s1')).status).toBe(200);
    // Another student in the same building: not found, as if absent from the roster.
    expect((await api(hub, cs, '/api/attendance/students/s2')).status).toBe(404);
    expect((await api(hub, cs, '/api/attendance/leaves', { method: 'POST', body: { student: 's2', from: NIGHT, to: NIGHT, reason: 'x', approve: true } })).status).toBe(404);

    // Leave for their own student: entered, approved, the night changes (absent -> leave), audited.
    const l = await api<Leave>(hub, cs, '/api/attendance/leaves', { method: 'POST', body: { student: 's3', from: NIGHT, to: '2026-12-01', reason: '回家 · home' } });
    expect(l.status).toBe(201);
    expect((await api<Leave>(hub, cs, `/api/attendance/leaves/${l.body.id}/approve`, { method: 'POST' })).body.status).toBe('approved');
    expect((await api<NightList>(hub, cs, `/api/attendance/exceptions?night=${NIGHT}`)).body.rows.map((r) => r.student)).toEqual(['s1']);
    const audit = await api<{ entries: Array<{ actor: string; action: string; target: string | null }> }>(hub, admin, '/api/audit?limit=50');
    expect(audit.body.entries.some((e) => e.actor === 'cs1' && e.action === 'attendance.leave_approve' && e.target === 's3')).toBe(true);

    // Nothing else: not the settings, the roster, devices, events, gateways, alarms, faces, the site plan.
    for (const [method, path] of [
      ['GET', '/api/attendance/settings'],
      ['POST', '/api/attendance/roster'],
      ['GET', '/api/devices'],
      ['GET', '/api/events'],
      ['GET', '/api/gateways'],
      ['GET', '/api/alarms'],
      ['GET', '/api/faces/persons'],
      ['GET', '/api/site'],
      ['GET', '/api/users'],
    ] as const) {
      expect((await api(hub, cs, path, { method, ...(method === 'POST' ? { body: {} } : {}) })).status, `${method} ${path}`).toBe(403);
    }
    expect((await api(hub, cs, '/api/me')).status).toBe(200);

    // Live: only attendance messages, and only about s1 and s3 (never the check-in events, devices or gateways).
    await eventually(() => got.some(([n]) => n === 'attendance'), 'an attendance message');
    const about = (m: AttendanceLive) => (m.kind === 'report' ? m.rows.map((r) => r.student) : [m.row.student]);
    expect(got.every(([n]) => n === 'attendance')).toBe(true);
    expect(got.flatMap(([, m]) => about(m as AttendanceLive)).every((s) => s === 's1' || s === 's3')).toBe(true);
  });
});
