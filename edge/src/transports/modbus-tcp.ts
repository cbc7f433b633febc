import { compile } from '@warden/contract';
import { ModbusConnectionOptions, ModbusPoller, type ModbusMeterOptions } from '../modbus/poller.ts';
import { defineTransport } from './transport.ts';

const check = compile(ModbusConnectionOptions);

/**
 * Modbus TCP poll: the agent connects to each device (a meter or its RS-485 converter) and reads its
 * register map every `pollSeconds` (src/modbus/). Readings become telemetry through the same ingest as
 * field messages; failures are counted and fold into device.offline / device.online.
 */
export default defineTransport({
  name: 'modbus-tcp',
  description: 'devices polled by the agent over Modbus TCP',
  options: ModbusConnectionOptions,
  deviceLogin: false,
  async start(deps) {
    const pollers = deps.devices.map((d) => {
      // The driver's options schema includes the connection options (checked when drivers load); the config
      // loader validated the device against it, and this check keeps the cast below honest.
      if (!check.check(d.options)) throw new Error(`device ${d.id}: ${d.driver.name} options lack Modbus connection settings: ${check.explain(d.options)}`);
      return new ModbusPoller({
        deviceId: d.id,
        options: d.options as ModbusMeterOptions,
        emit: deps.emit,
        onAvailability: deps.onAvailability,
        registry: deps.registry,
        logger: deps.logger.child({ device: d.id }),
      });
    });
    for (const p of pollers) p.start();
    return { stop: async () => void (await Promise.all(pollers.map((p) => p.stop()))) };
  },
});
