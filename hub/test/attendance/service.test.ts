import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AttendanceLive } from '@warden/contract';
import { AuditLog } from '../../src/audit.ts';
import { AttendanceService } from '../../src/attendance/service.ts';
import { AttendanceStore } from '../../src/attendance/store.ts';
import { localInstant } from '../../src/attendance/tz.ts';
import type { StoredEvent } from '../../src/store/events.ts';
import { openStateDb, type StateDb } from '../../src/store/state-db.ts';

const TZ = 'Asia/Shanghai';
const at = (date: string, hhmm: string, nextDay = false) => {
  const [h, m] = hhmm.split(':').map(Number);
  return localInstant(date, h! * 60 + m! + (nextDay ? 1440 : 0), TZ);
};
const NIGHT = '2026-11-30'; // a Monday: weekday curfew 23:00

const ROSTER_CSV = `student_id,name,building,floor,room,exempt
s1,Li Wei,B1,3,301,
s2,Wang Fang,B1,3,301,
s3,Zhang Min,B1,4,402,no
s4,Chen Jie,B2,1,101,
s5,Tutor Zhao,B1,1,100,yes
`;

let dir: string;
let db: StateDb;
let now: number;
let live: AttendanceLive[];
let svc: AttendanceService;
let seq = 0;

function checkin(student: string, direction: 'in' | 'out', ts: number, device = 'b1-gate', gateway = 'gw-b1', receivedAt = now): void {
  seq++;
  const e: StoredEvent = { id: `ev-${seq}-${student}`, seq, gateway, device, type: 'attendance.checkin', ts, receivedAt, data: { method: 'face', person: student, direction, score: 0.8 } };
  svc.onEvent(e);
}

function make(): AttendanceService {
  return new AttendanceService({
    store: new AttendanceStore(db),
    audit: new AuditLog(db),
    now: () => now,
    deviceBuilding: (d) => (d.startsWith('b2-') ? 'B2' : d.startsWith('b1-') ? 'B1' : null),
    publish: (m) => live.push(m),
    tickMs: 0,
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-attendance-'));
  db = openStateDb(join(dir, 'state.db'));
  now = at(NIGHT, '12:00');
  live = [];
  svc = make();
  svc.updateSettings({ curfew: { weekday: '23:00', weekend: '23:30', holiday: '23:30', exam: '22:30' }, reportDelayMinutes: 30 }, 'admin');
  const r = await svc.importRoster(Buffer.from(ROSTER_CSV), 'csv', '2026-09-01', true, 'admin');
  expect(r.ok).toBe(true);
});

afterEach(async () => {
  await svc.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const state = (night: string, student: string) => svc.night(night, null).find((r) => r.student === student);

describe('roster import', () => {
  it('imports a CSV and reports the diff of a re-import (moves, leavers, new) before applying it', async () => {
    expect(svc.buildings()).toEqual(['B1', 'B2']);
    const next = `学号,姓名,楼栋,楼层,房间
s1,Li Wei,B2,2,205
s2,Wang Fang,B1,3,301
s3,Zhang Minmin,B1,4,402
s5,Tutor Zhao,B1,1,100
s6,Sun Li,B2,1,101
`;
    const preview = await svc.importRoster(Buffer.from(next), 'csv', '2026-11-15', false, 'admin');
    expect(preview).toMatchObject({
      ok: true,
      applied: false,
      diff: {
        effective: '2026-11-15',
        rows: 5,
        added: [{ student: 's6', to: { building: 'B2', room: '101' } }],
        moved: [{ student: 's1', from: { building: 'B1', room: '301' }, to: { building: 'B2', floor: '2', room: '205' } }],
        left: [{ student: 's4', from: { building: 'B2' } }],
        renamed: [{ student: 's3', from: 'Zhang Min', to: 'Zhang Minmin' }],
      },
    });
    // Nothing changed by the preview.
    expect(svc.night('2026-11-20', null).find((r) => r.student === 's1')?.building).toBe('B1');
    await svc.importRoster(Buffer.from(next), 'csv', '2026-11-15', true, 'admin');
    // Moved mid-semester: the old room before the move date, the new one from it; the leaver is gone from then on.
    expect(svc.night('2026-11-14', null).find((r) => r.student === 's1')).toMatchObject({ building: 'B1', room: '301' });
    expect(svc.night('2026-11-15', null).find((r) => r.student === 's1')).toMatchObject({ building: 'B2', room: '205' });
    expect(svc.night('2026-11-14', null).some((r) => r.student === 's4')).toBe(true);
    expect(svc.night('2026-11-15', null).some((r) => r.student === 's4')).toBe(false);
    expect(svc.night('2026-11-20', new Set(['B1'])).map((r) => r.student).sort()).toEqual(['s2', 's3', 's5']);
    // The student's history follows them: a B2 manager sees s1 now, a B1 manager no longer does.
    expect(svc.inScope('s1', new Set(['B2']))).toBe(true);
    expect(svc.inScope('s1', new Set(['B1']), '2026-11-20')).toBe(false);
  });

  it('an XLSX with bad rows imports nothing and lists every error with its row number', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('名单');
    ws.addRow(['学号', '姓名', '楼栋', '楼层', '房间', '免查']);
    ws.addRow(['s10', 'Good One', 'B3', 1, 101, '否']);
    ws.addRow(['s11', '', 'B3', 1, 102, '']); // row 3: no name
    ws.addRow(['s 12', 'Bad Id', 'B3', 1, 103, '']); // row 4: bad id
    ws.addRow(['s10', 'Twice', 'B3', 1, 104, '']); // row 5: duplicate
    ws.addRow(['s13', 'Maybe', 'B3', 1, 105, 'perhaps']); // row 6: exempt not yes/no
    ws.addRow(['s14', 'No Room', 'B3', 2, null, '']); // row 7: no room
    const data = Buffer.from(await wb.xlsx.writeBuffer());
    const r = await svc.importRoster(data, 'xlsx', '2026-12-01', true, 'admin');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.row, e.column])).toEqual([
      [3, 'name'],
      [4, 'student'],
      [5, 'student'],
      [6, 'exempt'],
      [7, 'room'],
    ]);
    expect(r.errors[2]!.reason).toMatch(/already on row 2/);
    // Nothing imported, nothing left: the roster is as before.
    expect(svc.student('s10')).toBeNull();
    expect(svc.buildings()).toEqual(['B1', 'B2']);
    expect(svc.night('2026-12-01', null)).toHaveLength(5);
  });

  it('reads a good XLSX (numbers as text) and refuses files that are not spreadsheets or miss columns', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('roster');
    ws.addRow(['Student ID', 'Name', 'Building', 'Floor', 'Room']);
    ws.addRow([20260001, 'Xu Lan', 'B3', 5, 501]);
    const ok = await svc.importRoster(Buffer.from(await wb.xlsx.writeBuffer()), 'xlsx', '2026-12-01', false, 'admin');
    expect(ok).toMatchObject({ ok: true, diff: { added: [{ student: '20260001', to: { building: 'B3', floor: '5', room: '501' } }] } });
    expect(await svc.importRoster(Buffer.from('not a zip'), 'xlsx', '2026-12-01', true, 'admin')).toMatchObject({ ok: false, errors: [{ reason: expect.stringMatching(/not a readable XLSX/) }] });
    expect(await svc.importRoster(Buffer.from('id,name\ns1,A\n'), 'csv', '2026-12-01', true, 'admin')).toMatchObject({ ok: false, errors: [{ row: 1, column: 'building' }, { row: 1, column: 'floor' }, { row: 1, column: 'room' }] });
  });
});

describe('nights through the store', () => {
  it('resolves every state of a night and reports late/absent/unknown once at curfew + N', async () => {
    checkin('s1', 'out', at(NIGHT, '08:00'));
    checkin('s1', 'in', at(NIGHT, '21:00'));
    checkin('s2', 'out', at(NIGHT, '09:00'));
    checkin('s2', 'in', at(NIGHT, '23:20'));
    checkin('s2', 'in', at(NIGHT, '23:20')); // a second pass of the same entry
    checkin('s3', 'out', at(NIGHT, '10:00'));
    checkin('s4', 'out', at(NIGHT, '10:00'), 'b2-gate', 'gw-b2');
    // B2's gate goes down 21:00-22:00: s4 (no return seen) is unknown, not absent.
    svc.onAvailability('point', 'b2-gate', false, at(NIGHT, '21:00'));
    svc.onAvailability('point', 'b2-gate', true, at(NIGHT, '22:00'));
    now = at(NIGHT, '22:00');
    expect(state(NIGHT, 's3')?.state).toBe('pending');
    now = at(NIGHT, '23:25');
    expect(await svc.tick()).toBe(0);
    expect(Object.fromEntries(svc.night(NIGHT, null).map((r) => [r.student, r.state]))).toEqual({ s1: 'in', s2: 'late', s3: 'absent', s4: 'unknown', s5: 'exempt' });
    expect(state(NIGHT, 's2')?.at).toBe(at(NIGHT, '23:20'));
    now = at(NIGHT, '23:31');
    expect(await svc.tick()).toBe(2);
    expect(await svc.tick()).toBe(0);
    const reports = live.filter((m) => m.kind === 'report');
    expect(reports.map((m) => m.building).sort()).toEqual(['B1', 'B2']);
    const b1 = reports.find((m) => m.building === 'B1');
    expect(b1?.kind === 'report' && b1.rows.map((r) => `${r.student}:${r.state}`).sort()).toEqual(['s2:late', 's3:absent']);
    const board = svc.board(NIGHT, null);
    expect(board.buildings.map((b) => [b.building, b.counts])).toEqual([
      ['B1', { total: 4, in: 1, late: 1, absent: 1, exempt: 1 }],
      ['B2', { total: 1, unknown: 1 }],
    ]);
    expect(board.buildings[0]!.floors.map((f) => f.floor)).toEqual(['1', '3', '4']);
  });

  it('a late-arriving outbox batch corrects the reported night, visibly (revision, time, previous state)', async () => {
    checkin('s3', 'out', at(NIGHT, '10:00'));
    now = at(NIGHT, '23:31');
    await svc.tick();
    expect(state(NIGHT, 's3')).toMatchObject({ state: 'absent', revision: 0, correctedAt: null });
    // 01:10: the B1 gateway's outbox delivers an entry s3 made at 22:45 while its link was down.
    now = at(NIGHT, '01:10', true);
    checkin('s3', 'in', at(NIGHT, '22:45'), 'b1-gate', 'gw-b1', now);
    expect(state(NIGHT, 's3')).toMatchObject({ state: 'in', at: at(NIGHT, '22:45'), revision: 1, correctedAt: now, previousState: 'absent' });
    expect(live.find((m) => m.kind === 'correction')).toMatchObject({ night: NIGHT, building: 'B1', row: { student: 's3', state: 'in', revision: 1 } });
    expect(svc.history('s3', '2026-11-01', NIGHT, null).nights[0]).toMatchObject({ night: NIGHT, state: 'in', revision: 1, previousState: 'absent' });
  });

  it('leave spanning nights: approved leave changes the state of every night it covers, revoking it changes it back', async () => {
    checkin('s3', 'out', at(NIGHT, '10:00'));
    const l = svc.requestLeave({ student: 's3', from: NIGHT, to: '2026-12-02', reason: 'home' }, 'dm1', null);
    expect(l.status).toBe('requested');
    now = at(NIGHT, '23:40');
    await svc.tick();
    now = at('2026-12-01', '23:40');
    await svc.tick();
    expect(state(NIGHT, 's3')?.state).toBe('absent');
    expect(state('2026-12-01', 's3')?.state).toBe('absent');
    svc.decideLeave(l.id, 'approve', 'dm1', null);
    expect(state(NIGHT, 's3')).toMatchObject({ state: 'leave', revision: 1, previousState: 'absent' });
    expect(state('2026-12-01', 's3')).toMatchObject({ state: 'leave', revision: 1 });
    now = at('2026-12-02', '23:40');
    expect(state('2026-12-02', 's3')?.state).toBe('leave');
    now = at('2026-12-03', '23:40');
    expect(state('2026-12-03', 's3')?.state).toBe('absent'); // the night after the leave
    svc.decideLeave(l.id, 'revoke', 'dm1', null);
    expect(state(NIGHT, 's3')).toMatchObject({ state: 'absent', revision: 2, previousState: 'leave' });
    expect(() => svc.decideLeave(l.id, 'approve', 'dm1', null)).toThrow(/revoked/);
    const audit = new AuditLog(db).list(20, undefined, ['attendance.leave']);
    expect(audit.map((a) => a.action)).toEqual(['attendance.leave_revoke', 'attendance.leave_approve', 'attendance.leave_request']);
  });

  it('a night crossing midnight and going out again after a late return', async () => {
    checkin('s1', 'out', at(NIGHT, '19:00'));
    checkin('s1', 'in', at(NIGHT, '00:40', true));
    checkin('s2', 'out', at(NIGHT, '19:00'));
    checkin('s2', 'in', at(NIGHT, '23:15'));
    checkin('s2', 'out', at(NIGHT, '23:50'));
    now = at(NIGHT, '02:00', true);
    expect(state(NIGHT, 's1')).toMatchObject({ state: 'late', at: at(NIGHT, '00:40', true) });
    expect(state(NIGHT, 's2')).toMatchObject({ state: 'late', at: at(NIGHT, '23:15'), outAgain: true });
    // The 00:40 entry also carries into the next night: s1 is in there until they go out.
    now = at('2026-12-01', '23:30');
    expect(state('2026-12-01', 's1')?.state).toBe('in');
  });

  it('a dorm manager scope shows only their buildings', () => {
    now = at(NIGHT, '23:40');
    expect(svc.night(NIGHT, new Set(['B2'])).map((r) => r.student)).toEqual(['s4']);
    expect(svc.exceptions(NIGHT, new Set(['B2'])).every((r) => r.building === 'B2')).toBe(true);
    expect(() => svc.requestLeave({ student: 's1', from: NIGHT, to: NIGHT, reason: 'x' }, 'dm2', new Set(['B2']))).toThrow(/No such student/);
    expect(() => svc.history('s1', NIGHT, NIGHT, new Set(['B2']))).toThrow(/No such student/);
  });

  it('summaries count reported nights per building with a weekly late+absent trend', async () => {
    for (const [night, hh] of [['2026-11-23', '22:00'], ['2026-11-24', '23:30'], ['2026-11-30', '22:00']] as const) {
      checkin('s1', 'out', at(night, '08:00'));
      checkin('s1', 'in', at(night, hh));
      now = at(night, '23:40');
      await svc.tick();
    }
    const sum = svc.summary('2026-11-23', '2026-12-06', 'week', new Set(['B1']));
    expect(sum.buildings).toHaveLength(1);
    const b1 = sum.buildings[0]!;
    expect(b1.trend.map((w) => w.week)).toEqual(['2026-11-23', '2026-11-30']);
    expect(b1.counts.late).toBe(1);
    // Week 1: 2 nights × 3 counted students (s5 exempt): s1 late once, s2 and s3 absent both nights.
    expect(b1.trend[0]).toMatchObject({ nights: 6, late: 1, absent: 4 });
  });

  it('keeps everything across a restart (store is the truth)', async () => {
    checkin('s1', 'in', at(NIGHT, '21:00'));
    now = at(NIGHT, '23:31');
    await svc.tick();
    svc = make();
    expect(state(NIGHT, 's1')?.state).toBe('in');
    expect(svc.settings().curfew.exam).toBe('22:30');
    expect(await svc.tick()).toBe(0);
  });
});

describe('robot webhooks', () => {
  it('posts the curfew list to a DingTalk robot (signed) and a WeCom robot in their JSON formats', async () => {
    const got: Array<{ url: string; body: any }> = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ url: req.url ?? '', body: JSON.parse(body) });
        res.setHeader('content-type', 'application/json');
        res.end(req.url?.startsWith('/fail') ? '{"errcode":310000,"errmsg":"keywords not in content"}' : '{"errcode":0,"errmsg":"ok"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      svc.updateSettings(
        {
          ...svc.settings(),
          webhooks: [
            { kind: 'dingtalk', url: `${base}/robot/send?access_token=abc`, secret: 'SECxyz' },
            { kind: 'wecom', url: `${base}/cgi-bin/webhook/send?key=k1`, buildings: ['B1'] },
            { kind: 'wecom', url: `${base}/fail`, buildings: ['B2'] },
          ],
        },
        'admin',
      );
      checkin('s2', 'out', at(NIGHT, '09:00'));
      checkin('s2', 'in', at(NIGHT, '23:20'));
      now = at(NIGHT, '23:31');
      await svc.tick();
      const ding = got.filter((g) => g.url.startsWith('/robot'));
      expect(ding).toHaveLength(2); // B1 and B2
      const dB1 = ding.find((g) => g.body.markdown.title.startsWith('B1'))!;
      expect(dB1.body).toMatchObject({ msgtype: 'markdown', markdown: { title: expect.stringContaining('未归 2') } });
      expect(dB1.body.markdown.text).toMatch(/Wang Fang（s2）晚归 23:20/);
      expect(dB1.body.markdown.text).toMatch(/Zhang Min（s3）未归/);
      expect(dB1.url).toMatch(/timestamp=\d+&sign=/);
      const wecom = got.filter((g) => g.url.startsWith('/cgi-bin'));
      expect(wecom).toHaveLength(1);
      expect(Object.keys(wecom[0]!.body.markdown)).toEqual(['content']);
      expect(wecom[0]!.body.markdown.content).toMatch(/Li Wei（s1）未归/);
      expect(got.filter((g) => g.url.startsWith('/fail'))).toHaveLength(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
