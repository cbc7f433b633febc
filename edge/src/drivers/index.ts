import type { AnyDriver } from '../driver.ts';
import { TRANSPORTS } from '../transports/index.ts';
import doorController from './door-controller.ts';
import turnstile from './turnstile.ts';
import fireSensor from './fire-sensor.ts';
import emergencyPost from './emergency-post.ts';
import faceTerminal from './face-terminal.ts';
import intrusionZone from './intrusion-zone.ts';
import meter from './meter.ts';
import modbusMeter from './modbus-meter.ts';
import relayActuator from './relay-actuator.ts';
import onvifCamera from './onvif-camera.ts';

/** Every driver, keyed by the `driver` name used in gateway configs. A test checks each file here is listed. */
export const DRIVERS: ReadonlyMap<string, AnyDriver> = new Map(
  [doorController, turnstile, fireSensor, emergencyPost, intrusionZone, faceTerminal, meter, modbusMeter, relayActuator, onvifCamera].map((d): [string, AnyDriver] => [d.name, d]),
);

export const DRIVER_NAMES: readonly string[] = [...DRIVERS.keys()];

export function getDriver(name: string): AnyDriver | undefined {
  return DRIVERS.get(name);
}

/**
 * A driver must name a known transport and carry that transport's connection options in its options
 * schema (so the config loader checks them, with defaults). Returns the problems, empty when fine.
 */
export function checkDriver(d: AnyDriver): string[] {
  const transport = TRANSPORTS.get(d.transport);
  if (!transport) return [`driver ${d.name}: unknown transport "${d.transport}" (known: ${[...TRANSPORTS.keys()].join(', ')})`];
  const problems: string[] = [];
  const own = (d.options as { properties?: Record<string, unknown> }).properties ?? {};
  for (const key of Object.keys(transport.options?.properties ?? {})) {
    if (own[key] !== transport.options!.properties[key]) problems.push(`driver ${d.name}: options must include the ${transport.name} transport's option ${key}`);
  }
  return problems;
}

for (const d of DRIVERS.values()) {
  const problems = checkDriver(d);
  if (problems.length) throw new Error(problems.join('; '));
}
