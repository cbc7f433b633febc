import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { TObject } from 'typebox';
import type { RejectReason } from '@warden/contract';
import type { EdgeConfig } from '../config.ts';
import type { DeviceRuntime } from '../devices.ts';
import type { Emission, NativeMessage } from '../driver.ts';
import type { Delivery } from '../field-broker.ts';

/**
 * What the agent gives a transport. A transport moves bytes between the gateway and its devices; what
 * the bytes mean is the drivers' business, reached through `deliver` (a native message, decoded by the
 * device's driver uplinks) or `emit` (records the transport produced itself, e.g. polled telemetry).
 */
export interface TransportDeps {
  config: EdgeConfig;
  /** The devices whose driver names this transport. */
  devices: readonly DeviceRuntime[];
  /**
   * A native message from a device on one of its topics: decoded by its driver into records (or a
   * command reply) and committed before this returns; throws only when the outbox cannot store it, so
   * the transport can refuse the message and the device sends it again.
   */
  deliver(deviceId: string, topic: string, payload: Buffer, delivery?: Delivery): void;
  /** Commits records for a device (availability, polled readings); never throws. */
  emit(deviceId: string, emissions: Emission[]): void;
  /** Raw availability signals; the agent folds them into device.online / device.offline transitions. */
  onAvailability(deviceId: string, online: boolean, reason: string): void;
  /** Counts and logs a refusal of bad input. */
  refuse(reason: RejectReason, fields: Record<string, unknown>, msg: string): void;
  registry: Registry;
  logger: Logger;
}

export interface TransportRuntime {
  /** Sends a driver's native command to one of this transport's devices; absent when it carries no commands. */
  send?(device: DeviceRuntime, msg: NativeMessage): Promise<void>;
  /** Where devices connect, for transports that listen (the field broker). */
  address?: { host: string; port: number };
  stop(): Promise<void>;
}

/**
 * How the gateway reaches a class of devices: one file per transport in this folder, listed in
 * `index.ts`. A driver names its transport (`Driver.transport`); the agent starts every transport that
 * has devices (or is `always` on) and routes each device's commands to its transport.
 */
export interface Transport {
  name: string;
  description: string;
  /**
   * Per-device connection options (address, unit id, poll period...). Every driver of this transport
   * must include these properties in its options schema; checked when the drivers are loaded.
   */
  options?: TObject;
  /** Devices log in to the gateway with a field secret (so `field.requireAuth` needs `secret`). */
  deviceLogin: boolean;
  /** Started even without devices (the field broker always listens, so devices can be added). */
  always?: boolean;
  start(deps: TransportDeps): Promise<TransportRuntime>;
}

export function defineTransport(t: Transport): Transport {
  return Object.freeze(t);
}
