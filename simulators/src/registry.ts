import type { DeviceType } from './device.ts';
import { doorController } from './devices/door-controller.ts';
import { turnstile } from './devices/turnstile.ts';
import { fireSensor } from './devices/fire-sensor.ts';
import { emergencyPost } from './devices/emergency-post.ts';
import { faceTerminal } from './devices/face-terminal.ts';
import { intrusionZone } from './devices/intrusion-zone.ts';
import { meter } from './devices/meter.ts';
import { relayActuator } from './devices/relay-actuator.ts';

/** Every simulated device type, keyed by the edge driver that decodes it. A test checks every file in devices/ is here. */
export const DEVICE_TYPES: readonly DeviceType[] = [doorController, turnstile, fireSensor, emergencyPost, intrusionZone, meter, relayActuator, faceTerminal];

const byType = new Map(DEVICE_TYPES.map((d) => [d.type, d]));

export function deviceType(type: string): DeviceType | undefined {
  return byType.get(type);
}

export const DEVICE_TYPE_NAMES: readonly string[] = DEVICE_TYPES.map((d) => d.type);
