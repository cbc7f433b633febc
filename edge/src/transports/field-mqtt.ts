import { startFieldBroker } from '../field-broker.ts';
import { defineTransport } from './transport.ts';

/**
 * Field MQTT: devices connect to the gateway's embedded field broker (src/field-broker.ts) and speak
 * their native topics (FIELD-PROTOCOLS.md). Messages go to the device's driver uplinks; commands are
 * published on the device's command topic. Only this transport's devices may log in and count for
 * availability; the broker listens even with none configured.
 */
export default defineTransport({
  name: 'field-mqtt',
  description: 'devices on the embedded field MQTT broker',
  deviceLogin: true,
  always: true,
  async start(deps) {
    const { field } = deps.config;
    const secrets = new Map(deps.devices.map((d) => [d.id, { secret: d.config.secret }]));
    const broker = await startFieldBroker({
      host: field.host,
      port: field.port,
      requireAuth: field.requireAuth,
      allowUnauthenticated: field.allowUnauthenticated,
      tls: field.tls,
      maxPacketBytes: field.maxPacketBytes,
      devices: secrets,
      onMessage: (deviceId, topic, payload, delivery) => deps.deliver(deviceId, topic, payload, delivery),
      onAvailability: deps.onAvailability,
      refuse: deps.refuse,
      logger: deps.logger,
    });
    return {
      address: { host: broker.host, port: broker.port },
      send: (_device, msg) => broker.publish(msg.topic, msg.payload),
      stop: () => broker.close(),
    };
  },
});
