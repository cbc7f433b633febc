import { gatewayTopic, isCommandAction, newId, validateCommand, type CommandAction, type DeviceKind } from '@warden/contract';
import type { Role } from './config.ts';
import { HubError } from './errors.ts';
import type { DeviceRepo } from './store/devices.ts';

/** Which device kind takes which command family. */
const ACTION_KIND: Record<string, DeviceKind> = {
  door: 'door',
  turnstile: 'turnstile',
  intrusion: 'intrusion_zone',
  actuator: 'actuator',
  camera: 'camera',
};

/** Who besides admin may command a device of this kind (docs/API.md). */
const KIND_ROLES: Partial<Record<DeviceKind, readonly Role[]>> = {
  door: ['security'],
  turnstile: ['security'],
  intrusion_zone: ['security'],
  actuator: ['facilities'],
  camera: ['security'],
};

export interface CommandDeps {
  devices: DeviceRepo;
  ttlMs: number;
  isConnected(gateway: string): boolean;
  publish(topic: string, payload: string): Promise<void>;
}

export interface SentCommand {
  commandId: string;
  gateway: string;
  action: CommandAction;
}

/** Validates a command against the contract and the caller's roles, then hands it to the device's gateway. */
export async function sendCommand(
  d: CommandDeps,
  roles: readonly Role[],
  deviceId: string,
  action: string,
  params: Record<string, unknown>,
  now = Date.now(),
): Promise<SentCommand> {
  if (!isCommandAction(action)) throw new HubError('unknown_action', action);
  const device = d.devices.get(deviceId);
  if (!device) throw new HubError('not_found', `device ${deviceId}`);
  const family = action.split('.')[0]!;
  if (ACTION_KIND[family] !== device.kind) throw new HubError('action_not_supported', device.id, device.kind, action);
  const allowed = KIND_ROLES[device.kind as DeviceKind] ?? [];
  if (!roles.includes('admin') && !roles.some((r) => allowed.includes(r))) throw new HubError('forbidden');
  const command = { v: 1 as const, id: newId(now), device: device.id, action, params, ts: now, expiresAt: now + d.ttlMs };
  const checked = validateCommand(command);
  if (!checked.ok) throw new HubError('validation_failed', checked.detail);
  if (!d.isConnected(device.gateway)) throw new HubError('gateway_offline', device.gateway);
  await d.publish(gatewayTopic(device.gateway, 'cmd'), JSON.stringify(checked.value));
  return { commandId: command.id, gateway: device.gateway, action };
}
