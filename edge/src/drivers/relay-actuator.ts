import Type from 'typebox';
import { command, event, noOptions, okReply, type NoOptions } from '../driver-kit.ts';
import { defineDriver, uplink } from '../driver.ts';

const Level = Type.Number({ minimum: 0, maximum: 100 });
const State = Type.Object({ on: Type.Boolean(), level: Type.Optional(Level) });

/** Relay / dimmer on a lighting or HVAC circuit. */
export default defineDriver<NoOptions, undefined>({
  name: 'relay-actuator',
  kind: 'actuator',
  description: 'relay or dimmer on a lighting / HVAC circuit',
  transport: 'field-mqtt',
  options: noOptions,
  uplinks: {
    'relay/{id}/state': uplink(State, (m) => [event('actuator.state', m.level === undefined ? { on: m.on } : { on: m.on, level: m.level })]),
  },
  replies: { 'relay/{id}/set/reply': okReply('relay refused') },
  commands: {
    'actuator.set': command<'actuator.set'>('relay/{id}/set', (p) => ({ on: p.on, ...(p.level === undefined ? {} : { level: p.level }) })),
  },
});
