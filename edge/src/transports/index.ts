import type { Transport } from './transport.ts';
import fieldMqtt from './field-mqtt.ts';
import modbusTcp from './modbus-tcp.ts';
import onvif from './onvif.ts';

export type { Transport, TransportDeps, TransportRuntime } from './transport.ts';

/**
 * Every transport, by the name drivers give as `transport`, in start order (the field broker first, so
 * devices can connect while the rest starts). A test checks each file here is listed. Adding one (e.g.
 * `onvif` for cameras) = one file here + a line in this list + drivers naming it.
 */
export const TRANSPORTS: ReadonlyMap<string, Transport> = new Map([fieldMqtt, modbusTcp, onvif].map((t): [string, Transport] => [t.name, t]));

export const TRANSPORT_NAMES: readonly string[] = [...TRANSPORTS.keys()];
