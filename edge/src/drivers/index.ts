import type { AnyDriver } from '../driver.ts';
import doorController from './door-controller.ts';
import turnstile from './turnstile.ts';
import fireSensor from './fire-sensor.ts';
import emergencyPost from './emergency-post.ts';
import faceTerminal from './face-terminal.ts';
import intrusionZone from './intrusion-zone.ts';
import meter from './meter.ts';
import modbusMeter from './modbus-meter.ts';
import relayActuator from './relay-actuator.ts';

/** Every driver, keyed by the `driver` name used in gateway configs. A test checks each file here is listed. */
export const DRIVERS: ReadonlyMap<string, AnyDriver> = new Map(
  [doorController, turnstile, fireSensor, emergencyPost, intrusionZone, faceTerminal, meter, modbusMeter, relayActuator].map((d): [string, AnyDriver] => [d.name, d]),
);

export const DRIVER_NAMES: readonly string[] = [...DRIVERS.keys()];

export function getDriver(name: string): AnyDriver | undefined {
  return DRIVERS.get(name);
}
