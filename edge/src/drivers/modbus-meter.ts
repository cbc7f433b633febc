import Type from 'typebox';
import { defineDriver, oneOf } from '../driver.ts';
import { ModbusConnectionOptions } from '../modbus/poller.ts';

const Options = Type.Object(
  { medium: oneOf(['power', 'water', 'gas']), ...ModbusConnectionOptions.properties },
  { additionalProperties: false, description: 'medium, host, map required; polled by the agent over Modbus TCP' },
);

/**
 * Modbus TCP meter on the `modbus-tcp` transport: no native topics; the transport polls its registers,
 * read through the register map named in `map` (src/modbus/register-maps/), into the same telemetry as
 * the MQTT meter.
 */
export default defineDriver({
  name: 'modbus-meter',
  kind: 'meter',
  description: 'power, water or gas meter read over Modbus TCP with a register map',
  transport: 'modbus-tcp',
  options: Options,
});
