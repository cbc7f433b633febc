import { afterEach, describe, expect, it } from 'vitest';
import { EnergyModule } from '../../src/energy/module.ts';
import { localTime } from '../../src/energy/time.ts';
import { eventually } from '../helpers.ts';
import { moduleContext, type TestContext } from '../module-context.ts';

/**
 * The energy module on a real context (SQLite, DuckDB, MQTT broker, hub bus) with a clock the test moves: schedule
 * commands go out on the broker, their confirmations arrive on the hub bus (nothing is read back from the events
 * table), overrides run on the hub clock, and stop leaves nothing listening.
 */
const OFF = 8;
// 2026-01-05 is a Monday; every time below is campus-local (UTC+8) and fixed, so the test passes on any date.
const at = (hhmm: string) => localTime('2026-01-05', Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)), OFF);

let t: TestContext | undefined;
let mod: EnergyModule | undefined;
afterEach(async () => {
  await mod?.stop();
  await t?.close();
  mod = t = undefined;
});

async function started(): Promise<{ t: TestContext; mod: EnergyModule }> {
  t = await moduleContext({ energy: { utcOffsetHours: OFF, schedules: [{ id: 'light-a', circuits: ['relay-a-1f'], term: { mon: [{ from: '07:00', to: '22:00', level: 80 }] } }] } }, at('06:00'));
  t.ctx.stores.gateways.create('gw-a', null, 'unused-hash');
  t.ctx.stores.devices.applyInventory('gw-a', [{ id: 'relay-a-1f', kind: 'actuator', driver: 'relay-actuator', building: 'teach-a' }], true, at('06:00'));
  mod = new EnergyModule();
  await mod.start(t.ctx);
  return { t, mod };
}

const result = (t: TestContext, commandId: string, ok: boolean) =>
  t.ctx.bus.emit('event', { id: `e-${commandId}`, seq: 1, gateway: 'gw-a', device: 'relay-a-1f', type: 'command.result', ts: at('08:00'), receivedAt: at('08:00'), data: { command: commandId, action: 'actuator.set', ok } });

describe('energy module', () => {
  it('sends the scheduled state on the broker and takes its confirmation from the hub bus', async () => {
    const { t, mod } = await started();
    t.setNow(at('08:00'));
    await mod.scheduleTick();
    const cmd = await eventually(() => t.commands.find((c) => c.device === 'relay-a-1f'), 'actuator.set on the broker');
    expect(cmd).toMatchObject({ action: 'actuator.set', params: { on: true, level: 80 } });
    expect(mod.circuits()[0]!.sent).toMatchObject({ commandId: cmd.id, at: at('08:00'), confirmed: null });
    result(t, cmd.id, true);
    expect(mod.circuits()[0]!.sent).toMatchObject({ confirmed: true });
    // The confirmation came from the bus alone: the events table holds no command.result.
    expect(t.ctx.stores.events.query({ type: 'command.result', limit: 10 }).events).toHaveLength(0);
    expect(t.ctx.stores.audit.list(10).map((e) => e.action)).toContain('schedule.confirmed');
  });

  it('an override runs on the hub clock: held for its minutes, then back to the schedule', async () => {
    const { t, mod } = await started();
    t.setNow(at('08:00'));
    await mod.scheduleTick();
    const st = await mod.override('relay-a-1f', false, undefined, 30, 'fac-li');
    expect(st.wanted).toMatchObject({ on: false });
    expect(t.ctx.stores.audit.list(10).find((e) => e.action === 'schedule.override')).toMatchObject({ actor: 'fac-li', ts: at('08:00'), detail: { until: at('08:30') } });
    t.setNow(at('08:29'));
    await mod.scheduleTick();
    expect(mod.circuits()[0]!.wanted).toMatchObject({ on: false });
    t.setNow(at('08:30'));
    await mod.scheduleTick();
    expect(mod.circuits()[0]!.wanted).toMatchObject({ on: true, level: 80 });
    await eventually(() => t.commands.filter((c) => c.device === 'relay-a-1f').length === 3, 'on, off, on again');
    expect(t.commands.map((c) => c.params)).toEqual([{ on: true, level: 80 }, { on: false }, { on: true, level: 80 }]);
  });

  it('stop leaves no listener on the bus and the service closed', async () => {
    const { t, mod: m } = await started();
    expect(t.ctx.bus.listenerCount('event')).toBe(1);
    await m.stop();
    mod = undefined;
    expect(t.ctx.bus.listenerCount('event')).toBe(0);
    expect(() => m.service).toThrow(/energy is not started/);
  });
});
