import Type from 'typebox';
import { defineDriver, oneOf } from '../driver.ts';
import { REGISTER_MAP_NAMES } from '../modbus/register-maps/index.ts';

const Options = Type.Object(
  {
    medium: oneOf(['power', 'water', 'gas']),
    host: Type.String({ minLength: 1, description: 'address of the meter or its Modbus TCP converter' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 502, description: 'Modbus TCP port' }),
    unitId: Type.Integer({ minimum: 0, maximum: 255, default: 1, description: 'Modbus unit (slave) id' }),
    map: oneOf(REGISTER_MAP_NAMES as [string, ...string[]]),
    pollSeconds: Type.Number({ minimum: 0.05, maximum: 3600, default: 60, description: 'reading period' }),
    timeoutMs: Type.Integer({ minimum: 50, maximum: 60_000, default: 3000, description: 'a request without an answer in this time fails' }),
    offlineAfterFailures: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'consecutive failed polls before device.offline' }),
  },
  { additionalProperties: false, description: 'medium, host, map required; polled by the agent over Modbus TCP' },
);

/**
 * Modbus TCP meter. It has no field-broker topics: the agent polls it (src/modbus/poller.ts) and turns
 * its registers, read through the register map named in `map`, into the same telemetry as the MQTT meter.
 */
export default defineDriver({
  name: 'modbus-meter',
  kind: 'meter',
  description: 'power, water or gas meter read over Modbus TCP with a register map',
  options: Options,
  initialState: () => undefined,
  uplinks: {},
  replies: {},
  commands: {},
});
