import Type, { type Static } from 'typebox';
import { defineDriver, epochSeconds, uplink, type DeviceContext, type Emission } from '../driver.ts';

const Options = Type.Object({}, { additionalProperties: false });

/** Last reported condition; undefined until the first report after the agent starts. */
interface FireState {
  alarm: boolean | undefined;
  fault: string | null | undefined;
}
type Ctx = DeviceContext<Static<typeof Options>, FireState>;

const State = Type.Object({
  alarm: Type.Boolean(),
  /** Obscuration in %/m. */
  obscuration: Type.Optional(Type.Number({ minimum: 0 })),
  fault: Type.Optional(Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 128 })])),
  ts: Type.Optional(Type.Number()),
});

/**
 * The detector repeats its whole state every 30 s, so events come from transitions, not from messages.
 * A first report of an alarm after the agent starts is reported: an alarm must never be missed
 * because the agent restarted during it (the hub tolerates a repeated fire.alarm).
 */
function decodeState(m: Static<typeof State>, ctx: Ctx): Emission[] {
  const ts = epochSeconds(m.ts);
  const out: Emission[] = [];
  const prev = ctx.state;
  if (m.alarm && prev.alarm !== true) {
    out.push({ kind: 'event', type: 'fire.alarm', data: m.obscuration === undefined ? {} : { smoke: m.obscuration }, ts });
  } else if (!m.alarm && prev.alarm === true) {
    out.push({ kind: 'event', type: 'fire.cleared', data: {}, ts });
  }
  const fault = m.fault ?? null;
  if (fault !== null && fault !== prev.fault) out.push({ kind: 'event', type: 'fire.fault', data: { fault }, ts });
  if (m.obscuration !== undefined) out.push({ kind: 'telemetry', metrics: { smoke_obscuration: m.obscuration }, ts });
  prev.alarm = m.alarm;
  prev.fault = fault;
  return out;
}

/** Smoke / fire detector reporting its full state on change and as a heartbeat. */
export default defineDriver<Static<typeof Options>, FireState>({
  name: 'fire-sensor',
  kind: 'fire_sensor',
  description: 'smoke / fire detector',
  options: Options,
  initialState: () => ({ alarm: undefined, fault: undefined }),
  uplinks: { 'fire/{id}/state': uplink(State, decodeState) },
  replies: {},
  commands: {},
});
