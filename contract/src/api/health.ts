import Type, { type Static } from 'typebox';
import type { RouteDef } from './common.ts';

export const HealthSchema = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  uptimeS: Type.Integer(),
  mqttClients: Type.Integer(),
  gatewaysOnline: Type.Integer(),
});
export type Health = Static<typeof HealthSchema>;

export const HEALTH_ROUTES = {
  'GET /api/health': { summary: 'Liveness and a few numbers', response: HealthSchema },
  'GET /api/metrics': { summary: 'Prometheus metrics (open on the hub host, admin elsewhere)', response: Type.String({ description: 'Prometheus text exposition format' }) },
} as const satisfies Record<string, RouteDef>;
