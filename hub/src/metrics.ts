import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REJECT_REASONS } from '@warden/contract';

/**
 * One registry per hub instance (tests run several hubs in one process). Every refusal of bad input
 * increments a counter here, labelled with its reason.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'warden_hub_process_' });
  const m = {
    registry,
    rejected: new Counter({
      name: 'warden_hub_rejected_total',
      help: 'Messages or records refused, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'warden_hub_auth_failures_total',
      help: 'Refused MQTT connections, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    duplicates: new Counter({ name: 'warden_hub_duplicates_total', help: 'Uplink records already stored (resent), not stored again', registers: [registry] }),
    stored: new Counter({ name: 'warden_hub_records_stored_total', help: 'Uplink records stored, by kind', labelNames: ['kind'] as const, registers: [registry] }),
    batches: new Counter({ name: 'warden_hub_batches_total', help: 'Uplink batches processed (acknowledged or not)', registers: [registry] }),
    acks: new Counter({ name: 'warden_hub_acks_total', help: 'Cumulative acks published to gateways', registers: [registry] }),
    ingestSeconds: new Histogram({
      name: 'warden_hub_ingest_batch_seconds',
      help: 'Time from receiving an uplink batch to its durable storage',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    loginFailures: new Counter({
      name: 'warden_hub_login_failures_total',
      help: 'Refused console logins, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    commands: new Counter({ name: 'warden_hub_commands_total', help: 'Commands sent to gateways, by action', labelNames: ['action'] as const, registers: [registry] }),
    mqttClients: new Gauge({ name: 'warden_hub_mqtt_clients', help: 'Connected MQTT clients', registers: [registry] }),
    gatewaysOnline: new Gauge({ name: 'warden_hub_gateways_online', help: 'Gateways whose last status says online', registers: [registry] }),
    liveClients: new Gauge({ name: 'warden_hub_live_clients', help: 'Connected live-feed (socket.io) clients', registers: [registry] }),
  };
  // Present from the start at 0, so dashboards and alerts see every reason before the first one happens.
  for (const r of REJECT_REASONS) m.rejected.inc({ reason: r }, 0);
  return m;
}

export type HubMetrics = ReturnType<typeof createMetrics>;
