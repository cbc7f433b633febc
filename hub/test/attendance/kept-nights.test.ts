import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NightRow } from '@warden/contract';
import { AuditLog } from '../../src/audit.ts';
import { AttendanceService } from '../../src/attendance/service.ts';
import { AttendanceStore } from '../../src/attendance/store.ts';
import { addDays, localInstant } from '../../src/attendance/tz.ts';
import { openStateDb, type StateDb } from '../../src/store/state-db.ts';

/**
 * The service keeps each night's rows and re-resolves only what new input or the passing of time can change
 * (hub/src/attendance/service.ts, NightCache). This walks seeded random sequences of check-ins (late outbox
 * batches, duplicates, future-stamped passes), leave decisions, point and gateway outages, reports and time steps
 * across curfew and midnight, and after every step compares the kept rows and the curfew list with a resolve from
 * scratch: they must never differ.
 */
const TZ = 'Asia/Shanghai';
const NIGHT = '2026-11-30';
const at = (date: string, minutes: number) => localInstant(date, minutes, TZ);
const STUDENTS = 40;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let dir: string;
let db: StateDb;
let now: number;
let svc: AttendanceService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-kept-nights-'));
  db = openStateDb(join(dir, 'state.db'));
  now = at(NIGHT, 12 * 60);
  svc = new AttendanceService({
    store: new AttendanceStore(db),
    audit: new AuditLog(db),
    now: () => now,
    deviceBuilding: (d) => (d.startsWith('b2-') ? 'B2' : 'B1'),
    tickMs: 0,
  });
  svc.updateSettings({ curfew: { weekday: '23:00', weekend: '23:30', holiday: '23:30', exam: '22:30' }, reportDelayMinutes: 30 }, 'admin');
  const csv = ['student_id,name,building,floor,room,exempt', ...Array.from({ length: STUDENTS }, (_, i) => `s${i},N${i},${i % 2 ? 'B2' : 'B1'},${1 + (i % 3)},${100 + (i % 7)},${i === 7 ? 'yes' : ''}`)].join('\n');
  expect((await svc.importRoster(Buffer.from(csv), 'csv', '2026-09-01', true, 'admin')).ok).toBe(true);
});

afterEach(async () => {
  await svc.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const view = (r: NightRow) => `${r.student}:${r.state}:${r.at}:${r.outAgain}:${r.reason}:${r.building}`;

function expectSameAsFresh(night: string, step: string): void {
  const kept = svc.night(night, null).map(view).sort();
  const fresh = svc.resolve(night, null).map(view).sort();
  expect(kept, step).toEqual(fresh);
  const flagged = svc.exceptions(night, new Set(['B2'])).map(view).sort();
  expect(flagged, step).toEqual(
    svc
      .resolve(night, new Set(['B2']))
      .filter((r) => r.state === 'absent' || r.state === 'late' || r.state === 'unknown')
      .map(view)
      .sort(),
  );
}

describe('kept nights equal a resolve from scratch', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: 160 random steps over two nights`, async () => {
      const r = rng(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
      const nights = [NIGHT, addDays(NIGHT, 1)];
      let ev = 0;
      const leaves: number[] = [];
      const down = new Set<string>();
      for (let step = 0; step < 160; step++) {
        const p = r();
        let what: string;
        if (p < 0.55) {
          // A check-in stamped anywhere from 10:00 to 01:30 of one of the two nights (late batches, future stamps included).
          const night = pick(nights);
          const student = `s${Math.floor(r() * STUDENTS)}`;
          const ts = at(night, 600 + Math.floor(r() * 930));
          const direction = r() < 0.6 ? 'in' : 'out';
          const b2 = Number(student.slice(1)) % 2 === 1;
          ev++;
          svc.onEvent({ id: `e${ev}`, seq: ev, gateway: b2 ? 'gw-b2' : 'gw-b1', device: b2 ? 'b2-gate' : 'b1-gate', type: 'attendance.checkin', ts, receivedAt: now, data: { person: student, direction, method: 'card' } });
          if (r() < 0.1) svc.onEvent({ id: `e${ev}`, seq: ev, gateway: 'gw-b1', device: 'b1-gate', type: 'attendance.checkin', ts, receivedAt: now, data: { person: student, direction, method: 'card' } });
          what = `checkin ${student} ${direction} ${new Date(ts).toISOString()}`;
        } else if (p < 0.65) {
          const student = `s${Math.floor(r() * STUDENTS)}`;
          const from = pick(nights);
          const l = svc.requestLeave({ student, from, to: addDays(from, Math.floor(r() * 2)), reason: 'home', approve: r() < 0.7 }, 'dm', null);
          leaves.push(l.id);
          what = `leave ${student} ${l.status}`;
        } else if (p < 0.72 && leaves.length > 0) {
          const id = pick(leaves);
          const action = pick(['approve', 'reject', 'revoke'] as const);
          try {
            svc.decideLeave(id, action, 'dm', null);
          } catch {
            // Not allowed from its state: nothing changed.
          }
          what = `leave ${id} ${action}`;
        } else if (p < 0.8) {
          const target = pick(['b1-gate', 'b2-gate', 'gw-b1', 'gw-b2']);
          const kind = target.startsWith('gw-') ? 'gateway' : 'point';
          const online = down.has(target);
          if (online) down.delete(target);
          else down.add(target);
          svc.onAvailability(kind, target, online, now);
          what = `${target} ${online ? 'up' : 'down'}`;
        } else if (p < 0.85) {
          await svc.tick();
          what = 'tick';
        } else {
          now += Math.floor(r() * 90) * 60_000;
          what = `time ${new Date(now).toISOString()}`;
        }
        for (const night of nights) expectSameAsFresh(night, `seed ${seed} step ${step}: ${what}`);
      }
    });
  }

  it('at curfew the pending rows turn absent without any new input (and unknown where a point is down)', () => {
    svc.onEvent({ id: 'x1', seq: 1, gateway: 'gw-b1', device: 'b1-gate', type: 'attendance.checkin', ts: at(NIGHT, 20 * 60), receivedAt: now, data: { person: 's0', direction: 'in', method: 'card' } });
    svc.onEvent({ id: 'x2', seq: 2, gateway: 'gw-b2', device: 'b2-gate', type: 'attendance.checkin', ts: at(NIGHT, 20 * 60), receivedAt: now, data: { person: 's3', direction: 'in', method: 'card' } });
    svc.onAvailability('point', 'b2-gate', false, at(NIGHT, 12 * 60));
    now = at(NIGHT, 22 * 60);
    const before = new Map(svc.night(NIGHT, null).map((x) => [x.student, x.state]));
    expect(before.get('s0')).toBe('in');
    expect(before.get('s2')).toBe('pending');
    now = at(NIGHT, 23 * 60 + 1);
    const after = new Map(svc.night(NIGHT, null).map((x) => [x.student, x.state]));
    expect(after.get('s2')).toBe('absent');
    expect(after.get('s1')).toBe('unknown');
    expect(after.get('s7')).toBe('exempt');
    expect(svc.exceptions(NIGHT, null).length).toBe(STUDENTS - 3);
  });
});
