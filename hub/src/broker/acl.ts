import { GATEWAY_PUBLISHES, GATEWAY_SUBSCRIBES, TOPIC_ROOT, parseGatewayTopic, type GatewayChannel } from '@warden/contract';

export type AclDecision =
  | { ok: true; channel: GatewayChannel }
  | { ok: false; reason: 'acl_publish_denied' | 'acl_subscribe_denied' | 'unknown_topic'; detail: string };

/** A gateway publishes only the contract's gateway->hub channels, and only in its own subtree. */
export function checkPublish(gatewayId: string, topic: string): AclDecision {
  const t = parseGatewayTopic(topic);
  if (!t) {
    if (topic.startsWith(`${TOPIC_ROOT}/gw/${gatewayId}/`)) return { ok: false, reason: 'unknown_topic', detail: `no such channel: ${topic}` };
    return { ok: false, reason: 'acl_publish_denied', detail: `publish outside its subtree: ${topic}` };
  }
  if (t.gatewayId !== gatewayId) return { ok: false, reason: 'acl_publish_denied', detail: `publish into gateway ${t.gatewayId}'s subtree: ${topic}` };
  if (!GATEWAY_PUBLISHES.includes(t.channel)) return { ok: false, reason: 'acl_publish_denied', detail: `channel ${t.channel} is hub->gateway only` };
  return { ok: true, channel: t.channel };
}

/** A gateway subscribes only to its own hub->gateway channels, by exact topic (no wildcards). */
export function checkSubscribe(gatewayId: string, topic: string): AclDecision {
  const t = parseGatewayTopic(topic);
  if (!t || t.gatewayId !== gatewayId) return { ok: false, reason: 'acl_subscribe_denied', detail: `subscribe outside its subtree: ${topic}` };
  if (!GATEWAY_SUBSCRIBES.includes(t.channel)) return { ok: false, reason: 'acl_subscribe_denied', detail: `channel ${t.channel} is gateway->hub only` };
  return { ok: true, channel: t.channel };
}
