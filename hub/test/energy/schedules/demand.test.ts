import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AuditLog } from '../../../src/audit.ts';
import { DemandLimiter } from '../../../src/energy/schedules/demand.ts';
import { ScheduleRunner } from '../../../src/energy/schedules/runner.ts';
import { localTime } from '../../../src/energy/time.ts';
import { DeviceRepo } from '../../../src/store/devices.ts';
import { GatewayRepo } from '../../../src/store/gateways.ts';
import { openStateDb } from '../../../src/store/state-db.ts';

const OFF = 8;
const NOON = localTime('2026-11-02', 12 * 60, OFF);
const CIRCUITS = ['hvac-corridor', 'lighting-atrium', 'hvac-classrooms'];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

describe('demand limiter', () => {
  it('sheds the lowest priority circuits over the limit (commands sent, audited), restores them with room', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-demand-'));
    const db = openStateDb(join(dir, 'state.db'));
    new GatewayRepo(db).create('gw-a', null, 'unused-hash');
    const devices = new DeviceRepo(db);
    devices.applyInventory('gw-a', CIRCUITS.map((id) => ({ id, kind: 'actuator' as const, driver: 'relay-actuator' })), true, NOON);
    const audit = new AuditLog(db);
    const published: Array<{ device: string; params: Record<string, unknown> }> = [];
    const runner = new ScheduleRunner({
      schedules: [{ id: 'teach-a', circuits: CIRCUITS, term: { mon: [{ from: '07:00', to: '22:00' }] } }],
      calendar: { holidays: [], vacations: [] },
      utcOffsetHours: OFF,
      commands: { devices, ttlMs: 30_000, isConnected: () => true, publish: async (_t, p) => void published.push(JSON.parse(p)) },
      audit,
      subscribe: () => () => {},
      log: pino({ enabled: false }),
    });
    closers.push(async () => {
      runner.stop();
      db.close();
      await rm(dir, { recursive: true, force: true });
    });
    let power = 230;
    const limiter = new DemandLimiter({
      limits: [{ building: 'teach-a', meter: 'pm-a', limitKw: 205, marginKw: 5, loads: [{ circuit: 'hvac-corridor', priority: 1, kw: 12 }, { circuit: 'lighting-atrium', priority: 1, kw: 20 }, { circuit: 'hvac-classrooms', priority: 5, kw: 40 }] }],
      runner,
      audit,
      powerKw: async () => power,
    });
    await runner.tick(NOON);
    expect(published.map((p) => p.params.on)).toEqual([true, true, true]);

    const [decision] = await limiter.tick(NOON);
    expect(decision!.shed).toEqual(['lighting-atrium', 'hvac-corridor']);
    await runner.tick(NOON + 60_000);
    expect(published.slice(3)).toEqual([
      expect.objectContaining({ device: 'hvac-corridor', params: { on: false } }),
      expect.objectContaining({ device: 'lighting-atrium', params: { on: false } }),
    ]);
    expect(runner.status(NOON).find((c) => c.circuit === 'lighting-atrium')!.wanted.reason).toMatch(/^shed: teach-a demand 230 kW over the limit 205 kW/);
    expect(audit.list(20).find((e) => e.action === 'demand.shed')).toMatchObject({ actor: 'system:schedules', target: 'teach-a' });

    power = 190; // room for 10 kW (limit 205 - margin 5 - 190): nothing fits yet
    expect((await limiter.tick(NOON + 120_000))[0]!.restore).toEqual([]);
    power = 160; // room for 40: corridor (12) then atrium (20) — equal priority, smaller first
    expect((await limiter.tick(NOON + 180_000))[0]!.restore).toEqual(['hvac-corridor', 'lighting-atrium']);
    await runner.tick(NOON + 180_000);
    expect(published.slice(5).map((p) => [p.device, p.params.on])).toEqual([['hvac-corridor', true], ['lighting-atrium', true]]);
    expect(audit.list(30).some((e) => e.action === 'demand.restore')).toBe(true);
  });
});
