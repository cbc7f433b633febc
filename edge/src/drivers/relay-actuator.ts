import Type, { type Static } from 'typebox';
import { defineDriver, replyDecoder, uplink, type DeviceContext } from '../driver.ts';

const Options = Type.Object({}, { additionalProperties: false });
type Ctx = DeviceContext<Static<typeof Options>, undefined>;

const Level = Type.Number({ minimum: 0, maximum: 100 });
const State = Type.Object({ on: Type.Boolean(), level: Type.Optional(Level) });
const Reply = Type.Object({ ref: Type.String({ minLength: 1 }), ok: Type.Boolean(), err: Type.Optional(Type.String()) });

/** Relay / dimmer on a lighting or HVAC circuit. */
export default defineDriver<Static<typeof Options>, undefined>({
  name: 'relay-actuator',
  kind: 'actuator',
  description: 'relay or dimmer on a lighting / HVAC circuit',
  options: Options,
  initialState: () => undefined,
  uplinks: {
    'relay/{id}/state': uplink(State, (m, _c: Ctx) => [
      { kind: 'event', type: 'actuator.state', data: m.level === undefined ? { on: m.on } : { on: m.on, level: m.level } },
    ]),
  },
  replies: {
    'relay/{id}/set/reply': replyDecoder(Reply, (r) => ({ ref: r.ref, ok: r.ok, error: r.ok ? undefined : r.err || 'relay refused' })),
  },
  commands: {
    'actuator.set': (p, c) => ({ topic: `relay/${c.id}/set`, payload: { on: p.on, ...(p.level === undefined ? {} : { level: p.level }), ref: c.ref } }),
  },
});
