import Type, { type Static } from 'typebox';
import { changedTo, event, flag, noOptions, telemetry, transitions, type NoOptions } from '../driver-kit.ts';
import { defineDriver, epochSeconds, uplink, type DeviceContext, type Emission } from '../driver.ts';

const State = Type.Object({
  alarm: Type.Boolean(),
  /** Obscuration in %/m. */
  obscuration: Type.Optional(Type.Number({ minimum: 0 })),
  fault: Type.Optional(Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 128 })])),
  ts: Type.Optional(Type.Number()),
});
type StateMessage = Static<typeof State>;

/**
 * The detector repeats its whole state every 30 s, so events come from transitions, not from messages.
 * A first report of an alarm after the agent starts is reported (`flag`): an alarm must never be missed
 * because the agent restarted during it (the hub tolerates a repeated fire.alarm).
 */
const fire = transitions({
  alarm: flag<StateMessage>((m) => m.alarm, {
    raised: (m, ts) => event('fire.alarm', m.obscuration === undefined ? {} : { smoke: m.obscuration }, ts),
    cleared: (_m, ts) => event('fire.cleared', {}, ts),
  }),
  fault: changedTo<StateMessage, string>((m) => m.fault ?? null, (fault, _m, ts) => event('fire.fault', { fault }, ts)),
});

function decodeState(m: StateMessage, ctx: DeviceContext<NoOptions, ReturnType<typeof fire.initialState>>): Emission[] {
  const ts = epochSeconds(m.ts);
  const out = fire.events(m, ctx.state, ts);
  if (m.obscuration !== undefined) out.push(telemetry({ smoke_obscuration: m.obscuration }, ts));
  return out;
}

/** Smoke / fire detector reporting its full state on change and as a heartbeat. */
export default defineDriver<NoOptions, ReturnType<typeof fire.initialState>>({
  name: 'fire-sensor',
  kind: 'fire_sensor',
  description: 'smoke / fire detector',
  transport: 'field-mqtt',
  options: noOptions,
  initialState: fire.initialState,
  uplinks: { 'fire/{id}/state': uplink(State, decodeState) },
});
