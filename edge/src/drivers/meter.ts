import Type, { type Static } from 'typebox';
import { telemetry } from '../driver-kit.ts';
import { defineDriver, epochSeconds, oneOf, uplink, type DeviceContext, type Emission } from '../driver.ts';

const Options = Type.Object(
  { medium: oneOf(['power', 'water', 'gas']) },
  { additionalProperties: false, description: 'medium: what the meter measures (required)' },
);
type Ctx = DeviceContext<Static<typeof Options>, undefined>;

const Reading = Type.Object({
  /** Register: kWh for power, m³ for water and gas. */
  total: Type.Number({ minimum: 0 }),
  /** kW for power (negative when exporting), m³/h for water and gas. */
  instant: Type.Optional(Type.Number()),
  ts: Type.Optional(Type.Number()),
});

function decodeReading(m: Static<typeof Reading>, ctx: Ctx): Emission[] {
  const [totalName, instantName] = ctx.options.medium === 'power' ? ['energy_kwh', 'power_kw'] : ['volume_m3', 'flow_m3h'];
  const metrics: Record<string, number> = { [totalName]: m.total };
  if (m.instant !== undefined) metrics[instantName] = m.instant;
  return [telemetry(metrics, epochSeconds(m.ts))];
}

/** Utility meter (power, water or gas, from the device option `medium`) publishing on the field broker. */
export default defineDriver<Static<typeof Options>, undefined>({
  name: 'meter',
  kind: 'meter',
  description: 'power, water or gas meter',
  transport: 'field-mqtt',
  options: Options,
  uplinks: { 'meter/{id}/reading': uplink(Reading, decodeReading) },
});
