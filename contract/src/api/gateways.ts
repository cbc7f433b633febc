import Type, { type Static } from 'typebox';
import { GATEWAY_ID_PATTERN } from '../primitives.ts';
import { MsEpoch, Nullable, type RouteDef } from './common.ts';

export const GatewaySchema = Type.Object({
  id: Type.String(),
  name: Nullable(Type.String()),
  online: Type.Boolean(),
  lastSeen: Nullable(MsEpoch()),
  backlog: Nullable(Type.Integer()),
  agentVersion: Nullable(Type.String()),
  /** Records the gateway's full outbox shed, per class (telemetry first, then routine events; safety events never). */
  outboxShed: Type.Optional(Type.Object({ telemetry: Type.Integer({ minimum: 0 }), routine: Type.Integer({ minimum: 0 }) })),
});
export type Gateway = Static<typeof GatewaySchema>;

export const ProvisionedGatewaySchema = Type.Object({ id: Type.String(), password: Type.String() });
export type ProvisionedGateway = Static<typeof ProvisionedGatewaySchema>;

export const GATEWAY_ROUTES = {
  'GET /api/gateways': { summary: 'Gateways with their availability and backlog', response: Type.Object({ gateways: Type.Array(GatewaySchema) }) },
  'POST /api/gateways': {
    summary: 'Provision a gateway; its MQTT password is returned once',
    body: Type.Object({ id: Type.String({ pattern: GATEWAY_ID_PATTERN }), name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
    status: 201,
    response: ProvisionedGatewaySchema,
  },
} as const satisfies Record<string, RouteDef>;
