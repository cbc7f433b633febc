import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AuditLog } from '../../../src/audit.ts';
import { ScheduleRunner } from '../../../src/energy/schedules/runner.ts';
import type { WeeklySchedule } from '../../../src/energy/schedules/weekly.ts';
import { localTime } from '../../../src/energy/time.ts';
import { HubBus } from '../../../src/live/bus.ts';
import { DeviceRepo } from '../../../src/store/devices.ts';
import { GatewayRepo } from '../../../src/store/gateways.ts';
import { openStateDb } from '../../../src/store/state-db.ts';

const OFF = 8;
const at = (date: string, hhmm: string) => localTime(date, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)), OFF);
const schedule: WeeklySchedule = {
  id: 'teach-a-lighting',
  circuits: ['relay-a-1f', 'relay-a-2f'],
  term: { mon: [{ from: '07:00', to: '22:00', level: 90 }] },
};
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

/** Real SQLite state (devices, audit); the MQTT publish to the gateway is the recorded system edge. */
async function harness(connected = true) {
  const dir = await mkdtemp(join(tmpdir(), 'warden-schedules-'));
  const db = openStateDb(join(dir, 'state.db'));
  new GatewayRepo(db).create('gw-a', null, 'unused-hash');
  const devices = new DeviceRepo(db);
  devices.applyInventory('gw-a', ['relay-a-1f', 'relay-a-2f'].map((id) => ({ id, kind: 'actuator' as const, driver: 'relay-actuator', building: 'teach-a' })), true, at('2026-11-02', '06:00'));
  const audit = new AuditLog(db);
  const bus = new HubBus();
  const published: Array<{ topic: string; cmd: { id: string; device: string; action: string; params: Record<string, unknown> } }> = [];
  let online = connected;
  // The runner's clock is the test's: nothing here depends on the date the test runs on.
  let now = at('2026-11-02', '06:00');
  const runner = new ScheduleRunner({
    schedules: [schedule],
    calendar: { holidays: [], vacations: [] },
    utcOffsetHours: OFF,
    commands: { devices, ttlMs: 30_000, isConnected: () => online, publish: async (topic, payload) => void published.push({ topic, cmd: JSON.parse(payload) }) },
    audit,
    subscribe: (listener) => {
      bus.on('event', listener);
      return () => void bus.off('event', listener);
    },
    log: pino({ enabled: false }),
    clock: () => now,
  });
  closers.push(async () => {
    runner.stop();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  const result = (commandId: string, ok: boolean, ts: number, error?: string) =>
    bus.emit('event', { id: `e-${commandId}`, seq: 1, gateway: 'gw-a', device: 'relay-a-1f', type: 'command.result', ts, receivedAt: ts, data: { command: commandId, action: 'actuator.set', ok, ...(error ? { error } : {}) } });
  /** Moves the clock to a campus-local time and ticks there. */
  const tickAt = (date: string, hhmm: string) => {
    now = at(date, hhmm);
    return runner.tick();
  };
  return { runner, audit, published, result, tickAt, setOnline: (v: boolean) => void (online = v) };
}

describe('schedule runner', () => {
  it('sends actuator.set when the schedule changes, once, audited, and records the confirmation', async () => {
    const h = await harness();
    await h.tickAt('2026-11-02', '06:59');
    expect(h.published.map((p) => [p.topic, p.cmd.device, p.cmd.params])).toEqual([
      ['warden/v1/gw/gw-a/cmd', 'relay-a-1f', { on: false }],
      ['warden/v1/gw/gw-a/cmd', 'relay-a-2f', { on: false }],
    ]);
    await h.tickAt('2026-11-02', '07:00');
    expect(h.published.slice(2).map((p) => [p.cmd.device, p.cmd.action, p.cmd.params])).toEqual([
      ['relay-a-1f', 'actuator.set', { on: true, level: 90 }],
      ['relay-a-2f', 'actuator.set', { on: true, level: 90 }],
    ]);
    await h.tickAt('2026-11-02', '07:01');
    expect(h.published).toHaveLength(4);
    h.result(h.published[2]!.cmd.id, true, at('2026-11-02', '07:00'));
    const st = h.runner.status();
    expect(st[0]!.sent).toMatchObject({ on: true, level: 90, confirmed: true });
    const audit = h.audit.list(20).map((e) => [e.actor, e.action, e.target]);
    expect(audit).toContainEqual(['system:schedules', 'schedule.command', 'relay-a-1f']);
    expect(audit).toContainEqual(['system:schedules', 'schedule.confirmed', 'relay-a-1f']);
    const cmdEntry = h.audit.list(20).find((e) => e.action === 'schedule.command' && (e.detail as { reason?: string }).reason?.includes('07:00-22:00'));
    expect(cmdEntry).toBeDefined();
  });

  it('a manual override is audited with its author, applied at once, and lapses back to the schedule', async () => {
    const h = await harness();
    await h.tickAt('2026-11-02', '08:00');
    const st = await h.runner.override('relay-a-2f', false, undefined, at('2026-11-02', '09:00'), 'fac-li');
    expect(st.wanted).toMatchObject({ on: false });
    expect(h.published.at(-1)!.cmd).toMatchObject({ device: 'relay-a-2f', params: { on: false } });
    expect(h.audit.list(20).find((e) => e.action === 'schedule.override')).toMatchObject({ actor: 'fac-li', target: 'relay-a-2f' });
    const sent = h.published.length;
    await h.tickAt('2026-11-02', '08:59');
    expect(h.published).toHaveLength(sent);
    expect(h.runner.status().find((c) => c.circuit === 'relay-a-2f')!.wanted).toMatchObject({ on: false });
    await h.tickAt('2026-11-02', '09:00');
    expect(h.published.at(-1)!.cmd).toMatchObject({ device: 'relay-a-2f', params: { on: true, level: 90 } });
  });

  it('a refused or unsendable command is retried on the next tick', async () => {
    const h = await harness(false);
    await h.tickAt('2026-11-02', '08:00');
    expect(h.published).toHaveLength(0);
    expect(h.runner.status()[0]!.sent).toMatchObject({ confirmed: false, error: expect.stringMatching(/gw-a/) });
    h.setOnline(true);
    await h.tickAt('2026-11-02', '08:01');
    expect(h.published).toHaveLength(2);
    h.result(h.published[0]!.cmd.id, false, at('2026-11-02', '08:01'), 'relay fault');
    await h.tickAt('2026-11-02', '08:02');
    expect(h.published.map((p) => p.cmd.device)).toEqual(['relay-a-1f', 'relay-a-2f', 'relay-a-1f']);
  });
});
