import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { gatewayTopic, newId, type UplinkRecord } from '@warden/contract';
import { AuditLog } from '@warden/hub/audit.ts';
import { AttendanceCalendar, parseSettings } from '@warden/hub/attendance/calendar.ts';
import { AttendanceService } from '@warden/hub/attendance/service.ts';
import { AttendanceStore } from '@warden/hub/attendance/store.ts';
import { addDays } from '@warden/hub/attendance/tz.ts';
import { openStateDb } from '@warden/hub/store/state-db.ts';
import { waitForHttp } from '../src/supervisor.ts';
import { freePort, runWarden } from '../src/testing.ts';
import { connectMqtt } from './clients.ts';
import { fmt, printTable, rssMiB, summarize } from './stats.ts';

const PER_BUILDING = 500;
const POINTS_PER_BUILDING = 3;
const BUILDINGS_PER_GATEWAY = 10;
const BATCH = 500;
const IN_FLIGHT = 4;

/** Deterministic pseudo-random numbers (mulberry32): the same night on every run. */
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

interface Student {
  id: string;
  building: number;
}

/**
 * A night's check-ins, all within the 3 hours before curfew + 30 min: most students return once before curfew,
 * about 3 % after it, about 1 % not at all, one in ten goes out again and comes back, some pass twice (duplicates).
 */
function nightCheckins(students: Student[], curfew: number): Array<{ s: Student; ts: number; direction: 'in' | 'out' }> {
  const r = rng(11);
  const start = curfew - 150 * 60_000;
  const out: Array<{ s: Student; ts: number; direction: 'in' | 'out' }> = [];
  for (const s of students) {
    const p = r();
    if (p < 0.01) continue; // absent
    const late = p < 0.04;
    const first = late ? curfew + 60_000 + r() * 29 * 60_000 : start + r() * 140 * 60_000;
    out.push({ s, ts: first, direction: 'in' });
    if (r() < 0.05) out.push({ s, ts: first + 2_000, direction: 'in' }); // a second read of the same pass
    if (!late && r() < 0.1) {
      const away = first + r() * 20 * 60_000;
      if (away < curfew - 60_000) {
        out.push({ s, ts: away, direction: 'out' });
        out.push({ s, ts: Math.min(curfew - 30_000, away + r() * 30 * 60_000), direction: 'in' });
      }
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

/**
 * 30,000 students in 60 buildings; a night's check-ins ingested through the hub (gateways over MQTT, as the edge
 * sends them), then the curfew report for all buildings (GET /api/attendance/exceptions and the full board).
 * Baseline: the same night reduced by one SQL query on the same SQLite table (last crossing per student before
 * curfew, GROUP BY), with none of the rules (no curfew per building, late/absent/leave/outage, no roster join).
 */
export async function benchAttendance(students = 30_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-attendance-'));
  try {
    const buildings = Math.ceil(students / PER_BUILDING);
    const gateways = Math.ceil(buildings / BUILDINGS_PER_GATEWAY);
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const passwords: Record<string, string> = {};
    for (let i = 0; i < gateways; i++) passwords[`gw-dorm-${i}`] = newId();
    const bName = (b: number) => `D${String(b + 1).padStart(2, '0')}`;
    const gwOf = (b: number) => `gw-dorm-${Math.floor(b / BUILDINGS_PER_GATEWAY)}`;
    // The check-in points are in the hub's own registry (a gateway's inventory only proposes devices).
    const registry = Array.from({ length: buildings }, (_, b) =>
      Array.from({ length: POINTS_PER_BUILDING }, (_, p) => ({ id: `${bName(b).toLowerCase()}-gate-${p}`, gateway: gwOf(b), kind: 'face_terminal', name: `${bName(b)} check-in ${p}`, building: bName(b) })),
    ).flat();
    const cfg = join(dir, 'hub.yaml');
    writeFileSync(
      cfg,
      stringify({
        http: { host: '127.0.0.1', port: httpPort },
        mqtt: { host: '127.0.0.1', port: mqttPort },
        dataDir: join(dir, 'hub'),
        admin: { password: 'bench-admin-password' },
        gateways: Object.entries(passwords).map(([id, password]) => ({ id, password })),
        devices: { registry },
      }),
    );
    const hub = runWarden(['hub', '--config', cfg], { LOG_LEVEL: 'warn' });
    const base = `http://127.0.0.1:${httpPort}`;
    await waitForHttp(`${base}/api/health`);
    const token = ((await (await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-admin-password' }) })).json()) as { token: string }).token;
    const call = async (path: string, init: { method?: string; body?: unknown } = {}) => {
      const res = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) }, body: init.body ? JSON.stringify(init.body) : undefined });
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
      return res.json() as Promise<unknown>;
    };

    // A night three days back: complete on the wall clock, and outside the hub's catch-up window, so no report fires mid-ingest.
    const cal = new AttendanceCalendar(parseSettings({}));
    const night = addDays(cal.nightOf(Date.now()), -3);
    const all: Student[] = Array.from({ length: students }, (_, i) => ({ id: `2026${String(i).padStart(6, '0')}`, building: Math.floor(i / PER_BUILDING) }));
    const csv = ['student_id,name,building,floor,room', ...all.map((s, i) => `${s.id},Student ${i},${bName(s.building)},${1 + Math.floor((i % PER_BUILDING) / 84)},${100 * (1 + Math.floor((i % PER_BUILDING) / 84)) + Math.floor((i % 84) / 4) + 1}`)].join('\n');
    const t0 = performance.now();
    await call('/api/attendance/roster', { method: 'POST', body: { format: 'csv', data: Buffer.from(csv).toString('base64'), effective: addDays(night, -30), apply: true } });
    const importMs = performance.now() - t0;

    const curfew = cal.curfew(night, bName(0))!;
    const checkins = nightCheckins(all, curfew);
    const perGw = new Map<string, UplinkRecord[]>();
    const seqs = new Map<string, number>();
    for (const c of checkins) {
      const gw = gwOf(c.s.building);
      const seq = (seqs.get(gw) ?? 0) + 1;
      seqs.set(gw, seq);
      const device = `${bName(c.s.building).toLowerCase()}-gate-${Math.floor(Math.abs(Math.sin(seq)) * POINTS_PER_BUILDING)}`;
      const list = perGw.get(gw) ?? [];
      list.push({ id: newId(), seq, device, ts: Math.round(c.ts), kind: 'event', type: 'attendance.checkin', data: { method: 'face', person: c.s.id, direction: c.direction, score: 0.8 } });
      perGw.set(gw, list);
    }
    const clients = await Promise.all(Object.entries(passwords).map(([gw, password]) => connectMqtt(`mqtt://127.0.0.1:${mqttPort}`, { clientId: `warden-edge-${gw}`, username: gw, password, clean: true })));
    await Promise.all(
      clients.map((c, gi) => {
        const gw = `gw-dorm-${gi}`;
        const devices = [];
        for (let b = gi * BUILDINGS_PER_GATEWAY; b < Math.min(buildings, (gi + 1) * BUILDINGS_PER_GATEWAY); b++) {
          for (let p = 0; p < POINTS_PER_BUILDING; p++) devices.push({ id: `${bName(b).toLowerCase()}-gate-${p}`, kind: 'face_terminal', driver: 'face-terminal', building: bName(b) });
        }
        return c.publishAsync(gatewayTopic(gw, 'inventory'), JSON.stringify({ v: 1, gw, ts: Date.now(), devices }), { qos: 1, retain: true });
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    // The night's first report: every row resolved from scratch (what the first read after a hub start costs).
    const c0 = performance.now();
    await call(`/api/attendance/exceptions?night=${night}`);
    const coldMs = performance.now() - c0;
    // While check-ins arrive the console keeps asking (the hub's own reporter tick does the same for tonight).
    let polling = true;
    const pollMs: number[] = [];
    const poller = (async () => {
      while (polling) {
        const a = performance.now();
        await call(`/api/attendance/exceptions?night=${night}`);
        pollMs.push(performance.now() - a);
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const t1 = performance.now();
    await Promise.all(
      clients.map(
        (c, gi) =>
          new Promise<void>((resolve) => {
            const gw = `gw-dorm-${gi}`;
            const records = perGw.get(gw) ?? [];
            if (records.length === 0) return resolve();
            const total = records[records.length - 1]!.seq;
            let next = 0;
            const send = () => {
              if (next >= records.length) return;
              const batch = records.slice(next, next + BATCH);
              next += BATCH;
              c.publish(gatewayTopic(gw, 'up'), JSON.stringify({ v: 1, gw, records: batch }), { qos: 1 });
            };
            c.on('message', (_t, msg) => {
              const upTo = (JSON.parse(msg.toString()) as { upTo: number }).upTo;
              if (upTo >= total) return resolve();
              while (next < records.length && records[next]!.seq - 1 - upTo < IN_FLIGHT * BATCH) send();
            });
            c.subscribe(gatewayTopic(gw, 'ack'), { qos: 1 }, () => {
              for (let i = 0; i < IN_FLIGHT; i++) send();
            });
          }),
      ),
    );
    const ingestSecs = (performance.now() - t1) / 1000;
    polling = false;
    await poller;
    await Promise.all(clients.map((c) => c.endAsync()));

    // The curfew report for all buildings, as the console and the reporter ask for it.
    const reportMs: number[] = [];
    const boardMs: number[] = [];
    let counts: Record<string, number> = {};
    for (let i = 0; i < 7; i++) {
      const a = performance.now();
      const list = (await call(`/api/attendance/exceptions?night=${night}`)) as { rows: Array<{ state: string }> };
      reportMs.push(performance.now() - a);
      counts = {};
      for (const r of list.rows) counts[r.state] = (counts[r.state] ?? 0) + 1;
      const b = performance.now();
      await call(`/api/attendance/board?night=${night}`);
      boardMs.push(performance.now() - b);
    }
    const rss = rssMiB(hub.child.pid!);
    await hub.stop();

    // Baseline 1: the same report resolved from scratch for every student in this process (the report path before
    // the kept nights: roster x crossings x leave x outages through the same resolver), no HTTP.
    const sdb = openStateDb(join(dir, 'hub', 'state.db'));
    const scratch = new AttendanceService({ store: new AttendanceStore(sdb), audit: new AuditLog(sdb), now: () => Date.now(), tickMs: 0 });
    const scratchMs: number[] = [];
    let scratchCount = 0;
    for (let i = 0; i < 7; i++) {
      const a = performance.now();
      scratchCount = scratch.resolve(night, null).filter((r) => r.state === 'absent' || r.state === 'late' || r.state === 'unknown').length;
      scratchMs.push(performance.now() - a);
    }
    // The same service's kept night in process (no HTTP): built once, then the curfew list from the index.
    scratch.exceptions(night, null);
    const keptMs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const a = performance.now();
      scratch.exceptions(night, null);
      keptMs.push(performance.now() - a);
    }
    await scratch.stop();
    sdb.close();

    // Baseline: one GROUP BY over the same table, in this process (no HTTP, no rules).
    const db = new Database(join(dir, 'hub', 'state.db'), { readonly: true });
    const q = db.prepare<[number, number], { student: string; direction: string }>(
      `SELECT c.student, c.direction FROM attendance_crossings c
       JOIN (SELECT student, max(ts) AS ts FROM attendance_crossings WHERE ts >= ? AND ts < ? GROUP BY student) l ON l.student = c.student AND l.ts = c.ts`,
    );
    const bounds = cal.bounds(night);
    const baseMs: number[] = [];
    let inCount = 0;
    for (let i = 0; i < 7; i++) {
      const a = performance.now();
      inCount = q.all(bounds.start - 86_400_000, curfew).filter((r) => r.direction === 'in').length;
      baseMs.push(performance.now() - a);
    }
    db.close();

    const rep = summarize(reportMs);
    const brd = summarize(boardMs);
    const bas = summarize(baseMs);
    const scr = summarize(scratchMs);
    const kept = summarize(keptMs);
    const poll = summarize(pollMs.length ? pollMs : [0]);
    printTable(`attendance: ${fmt(students)} students in ${buildings} buildings, ${fmt(checkins.length)} check-ins within 3 h from ${gateways} gateways, night ${night}`, [
      { metric: 'roster import, 30k rows CSV (ms)', warden: fmt(importMs), baseline: '', ratio: '' },
      { metric: 'check-ins/s ingested (stored, acked, resolved)', warden: fmt(checkins.length / ingestSecs), baseline: '', ratio: '' },
      { metric: 'curfew report, all buildings, p50 ms (HTTP, kept night)', warden: fmt(rep.p50), baseline: `${fmt(scr.p50)} (resolve from scratch, in process)`, ratio: (rep.p50 / scr.p50).toFixed(3) },
      { metric: 'curfew report in process p50 ms (kept night)', warden: fmt(kept.p50), baseline: `${fmt(scr.p50)} (resolve from scratch, in process)`, ratio: (kept.p50 / scr.p50).toFixed(4) },
      { metric: 'curfew report, HTTP, vs a bare SQL query', warden: fmt(rep.p50), baseline: `${fmt(bas.p50)} (SQL GROUP BY, no rules)`, ratio: (rep.p50 / bas.p50).toFixed(2) },
      { metric: 'curfew report max ms (target < 200)', warden: fmt(rep.max), baseline: `${fmt(scr.max)} / ${fmt(bas.max)}`, ratio: '' },
      { metric: 'report while ingesting, p50 / max ms', warden: `${fmt(poll.p50)} / ${fmt(poll.max)} (${pollMs.length} asks)`, baseline: '', ratio: '' },
      { metric: 'first report of the night (builds it, HTTP)', warden: fmt(coldMs), baseline: '', ratio: '' },
      { metric: 'full board (every student) p50 ms', warden: fmt(brd.p50), baseline: '', ratio: '' },
      { metric: 'absent / late / unknown in the report', warden: `${counts.absent ?? 0} / ${counts.late ?? 0} / ${counts.unknown ?? 0}`, baseline: `${scratchCount} from scratch; ${students - inCount} not in (SQL)`, ratio: '' },
      { metric: 'load average (1 min) at the end', warden: loadavg()[0]!.toFixed(1), baseline: `${cpus().length} cores`, ratio: '' },
      { metric: 'hub RSS after run (MiB)', warden: fmt(rss), baseline: '', ratio: '' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
