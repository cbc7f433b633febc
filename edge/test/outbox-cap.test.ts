import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox, OutboxFullError, recordClass, type NewRecord } from '../src/outbox.ts';
import { EdgeMetrics } from '../src/metrics.ts';
import { NOW, tempDir } from './helpers.ts';

const telemetry = (i: number): NewRecord => ({ device: 'meter-1', ts: NOW + i, kind: 'telemetry', metrics: { energy_kwh: 1000 + i, power_kw: 3.2 } });
const routine = (i: number): NewRecord => ({ device: 'door-1', ts: NOW + i, kind: 'event', type: 'door.opened', data: { door: 1 } });
const fire = (i: number): NewRecord => ({ device: 'smoke-1', ts: NOW + i, kind: 'event', type: 'fire.alarm', data: { zone: `z${i}` } } as NewRecord);
const forced = (i: number): NewRecord => ({ device: 'door-1', ts: NOW + i, kind: 'event', type: 'door.forced', data: { door: 1 } });

const classesIn = (ob: Outbox) => {
  const c = { telemetry: 0, routine: 0, safety: 0 };
  for (const r of ob.peek(0, 1_000_000)) c[recordClass(r)]++;
  return c;
};

describe('outbox cap and priority shedding', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.remove());

  it('classifies alarms and safety events as never shed', () => {
    for (const t of ['fire.alarm', 'fire.fault', 'intrusion.alarm', 'intrusion.tamper', 'emergency.call', 'door.forced', 'camera.tamper'])
      expect(recordClass({ kind: 'event', type: t })).toBe('safety');
    for (const t of ['door.opened', 'access.granted', 'turnstile.pass', 'device.offline']) expect(recordClass({ kind: 'event', type: t })).toBe('routine');
    expect(recordClass({ kind: 'telemetry' })).toBe('telemetry');
  });

  it('at its record cap sheds the oldest telemetry first, then routine events, never safety events; counts survive a reopen', () => {
    const path = join(tmp.dir, 'ob.db');
    const shedLog: Array<Record<string, number>> = [];
    let ob = Outbox.open(path, { maxRecords: 100, onShed: (c) => shedLog.push({ ...c }) });
    let i = 0;
    for (; i < 60; i++) ob.append([telemetry(i)]);
    for (; i < 90; i++) ob.append([routine(i)]);
    for (; i < 100; i++) ob.append([fire(i)]);
    expect(ob.backlog()).toBe(100);
    expect(ob.shedCounts()).toEqual({ telemetry: 0, routine: 0 });

    // Over the cap: a safety event displaces the oldest telemetry (1 % extra freed, so shedding goes in steps).
    ob.append([forced(i++)]);
    expect(ob.backlog()).toBeLessThanOrEqual(100);
    expect(ob.shedCounts().telemetry).toBe(2);
    expect(ob.shedCounts().routine).toBe(0);
    expect(ob.peek(0, 1)[0]!.ts).toBe(NOW + 2); // the two oldest went

    // 200 more safety events: every telemetry record goes, then routine events; nothing safety is ever lost.
    for (let k = 0; k < 200; k++) ob.append([fire(i++)]);
    const c = classesIn(ob);
    expect(c).toEqual({ telemetry: 0, routine: 0, safety: 211 });
    expect(ob.shedCounts()).toEqual({ telemetry: 60, routine: 30 });
    expect(shedLog.reduce((n, s) => n + s.telemetry! + s.routine!, 0)).toBe(90);

    // Now full of safety events: new telemetry and routine events give way themselves (counted), the outbox does not grow.
    expect(ob.append([telemetry(i++)])).toEqual([]);
    expect(ob.append([routine(i++), fire(i++)]).map((r) => r.kind === 'event' && r.type)).toEqual(['fire.alarm']);
    expect(ob.shedCounts()).toEqual({ telemetry: 61, routine: 31 });
    expect(ob.backlog()).toBe(212);
    ob.close();

    ob = Outbox.open(path, { maxRecords: 100 });
    expect(ob.shedCounts()).toEqual({ telemetry: 61, routine: 31 });
    expect(ob.backlog()).toBe(212);
    ob.close();
  });

  it('telemetry never displaces routine events; the byte cap sheds the same way', () => {
    const ob = Outbox.open(join(tmp.dir, 'ob.db'), { maxBytes: 20_000 });
    try {
      let i = 0;
      while (ob.backlogBytes() < 10_000) ob.append([routine(i++)]);
      const routineCount = ob.backlog();
      for (let k = 0; k < 500; k++) ob.append([telemetry(i++)]);
      expect(ob.backlogBytes()).toBeLessThanOrEqual(20_000);
      const c = classesIn(ob);
      expect(c.routine).toBe(routineCount);
      expect(c.telemetry).toBeGreaterThan(0);
      expect(ob.shedCounts().routine).toBe(0);
      expect(ob.shedCounts().telemetry).toBe(500 - c.telemetry);
      // Acks keep the byte count right.
      const last = ob.peek(0, 1_000_000).at(-1)!.seq;
      ob.ackUpTo(last);
      expect(ob.backlog()).toBe(0);
      expect(ob.backlogBytes()).toBe(0);
    } finally {
      ob.close();
    }
  });

  it('reports the shed counts as warden_edge_outbox_shed_total{class}', async () => {
    const ob = Outbox.open(join(tmp.dir, 'ob.db'), { maxRecords: 10 });
    try {
      for (let i = 0; i < 30; i++) ob.append([telemetry(i)]);
      const m = new EdgeMetrics({ backlog: () => ob.backlog(), shed: () => ob.shedCounts(), hubConnected: () => false, devicesOnline: () => 0 });
      const text = await m.text();
      expect(text).toContain(`warden_edge_outbox_shed_total{class="telemetry"} ${ob.shedCounts().telemetry}`);
      expect(text).toContain('warden_edge_outbox_shed_total{class="routine"} 0');
      expect(ob.shedCounts().telemetry).toBeGreaterThanOrEqual(20);
    } finally {
      ob.close();
    }
  });
});

// A real full file system: a 1 MiB tmpfs mounted by the test (needs root, as in CI containers).
function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const canMount = process.getuid?.() === 0;

describe.skipIf(!canMount)('outbox on a full disk (tmpfs; skipped unless root can mount one)', () => {
  it('keeps running: sheds telemetry to make room, refuses only when nothing can give way, recovers when space returns', () => {
    const tmp = tempDir();
    const mnt = join(tmp.dir, 'disk');
    if (!mountTmpfs(mnt, '1m')) {
      tmp.remove();
      console.warn('skipped: could not mount a tmpfs');
      return;
    }
    const filler = join(mnt, 'filler');
    const ob = Outbox.open(join(mnt, 'ob.db'), { reserveBytes: 128 * 1024 }); // no cap: only the disk limits it
    try {
      // Fill the disk with telemetry until SQLite reports it full and the outbox starts shedding older telemetry.
      let i = 0;
      while (ob.shedCounts().telemetry === 0 && i < 100_000) ob.append([telemetry(i++)]);
      expect(ob.shedCounts().telemetry).toBeGreaterThan(0);
      // Alarms and routine events still get in (telemetry gives way).
      expect(ob.append([fire(i++)])).toHaveLength(1);
      expect(ob.append([routine(i++)])).toHaveLength(1);

      // Take whatever space is left with another file, and replace all telemetry by safety events.
      try {
        writeFileSync(filler, Buffer.alloc(1 << 20));
      } catch {
        /* filled up to the last byte */
      }
      let safetyStored = 0;
      for (let k = 0; k < 20_000; k++) {
        try {
          ob.append([fire(i++)]);
          safetyStored++;
        } catch (err) {
          expect(err).toBeInstanceOf(OutboxFullError);
          expect((err as OutboxFullError).classes.has('safety')).toBe(true);
          break;
        }
      }
      expect(safetyStored).toBeGreaterThan(0);
      // Nothing left to shed: a telemetry record is refused with OutboxFullError (the ingest then counts it as shed
      // and acknowledges it), a safety record too (the ingest refuses it to the device, which keeps and resends it).
      expect(() => ob.append([telemetry(i++)])).toThrow(OutboxFullError);
      const before = ob.shedCounts().telemetry;
      ob.countShed([telemetry(i++)]);
      expect(ob.shedCounts().telemetry).toBe(before + 1);
      expect(() => ob.append([fire(i++)])).toThrow(OutboxFullError);

      // Space returns: the outbox works again without a restart.
      rmSync(filler, { force: true });
      expect(ob.append([fire(i++)])).toHaveLength(1);
      expect(ob.append([telemetry(i++)])).toHaveLength(1);
      const n = ob.backlog();
      expect(classesIn(ob).safety).toBe(safetyStored + 2);
      expect(n).toBeGreaterThan(safetyStored);
    } finally {
      ob.close();
      try {
        execFileSync('umount', [mnt], { stdio: 'ignore' });
      } catch {
        /* best effort */
      }
      tmp.remove();
    }
  });
});
