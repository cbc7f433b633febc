import { DEVICE_ID_PATTERN, GATEWAY_ID_PATTERN } from './primitives.ts';
import { TOPIC_ROOT } from './version.ts';

/**
 * Gateway <-> hub topic tree. Each gateway owns the subtree `warden/v1/gw/{gatewayId}/`.
 *
 * gateway -> hub:  .../up         batches of uplink records (QoS 1), acknowledged by .../ack
 *                  .../status     retained birth / last will, with backlog and counters
 *                  .../inventory  retained list of the gateway's devices
 * hub -> gateway:  .../ack        cumulative acknowledgement of stored records
 *                  .../cmd        commands for the gateway's devices
 *                  .../config     configuration pushed by the hub (retained)
 *                  .../gallery    face gallery deltas for this gateway only (see gallery.ts)
 */
export type GatewayChannel = 'up' | 'status' | 'inventory' | 'ack' | 'cmd' | 'config' | 'gallery';

/** Channels a gateway may publish to (all inside its own subtree). */
export const GATEWAY_PUBLISHES: readonly GatewayChannel[] = ['up', 'status', 'inventory'];
/** Channels a gateway may subscribe to (all inside its own subtree). */
export const GATEWAY_SUBSCRIBES: readonly GatewayChannel[] = ['ack', 'cmd', 'config', 'gallery'];

const GATEWAY_ID = new RegExp(GATEWAY_ID_PATTERN);
export const DEVICE_ID = new RegExp(DEVICE_ID_PATTERN);

export function isValidGatewayId(id: string): boolean {
  return GATEWAY_ID.test(id);
}

export function gatewayTopic(gatewayId: string, channel: GatewayChannel): string {
  if (!isValidGatewayId(gatewayId)) throw new Error(`invalid gateway id ${JSON.stringify(gatewayId)}`);
  return `${TOPIC_ROOT}/gw/${gatewayId}/${channel}`;
}

/** Wildcard the hub subscribes to for one channel of every gateway. */
export function allGatewaysTopic(channel: GatewayChannel): string {
  return `${TOPIC_ROOT}/gw/+/${channel}`;
}

export interface ParsedGatewayTopic {
  gatewayId: string;
  channel: GatewayChannel;
}

const CHANNELS = new Set<string>(['up', 'status', 'inventory', 'ack', 'cmd', 'config', 'gallery']);

/** Returns null for anything outside the gateway tree, including wildcards. */
export function parseGatewayTopic(topic: string): ParsedGatewayTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[2] !== 'gw') return null;
  const gatewayId = parts[3]!;
  const channel = parts[4]!;
  if (!isValidGatewayId(gatewayId) || !CHANNELS.has(channel)) return null;
  return { gatewayId, channel: channel as GatewayChannel };
}
