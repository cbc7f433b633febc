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

export const RotatedGatewaySchema = Type.Object({
  id: Type.String(),
  /** The new MQTT password, shown once. */
  password: Type.String(),
  /** Live MQTT sessions closed: the gateway must log in again with the new password. */
  disconnected: Type.Integer({ minimum: 0 }),
});
export type RotatedGateway = Static<typeof RotatedGatewaySchema>;

export const RevokedCertificateSchema = Type.Object({ id: Type.String(), fingerprint: Type.String(), disconnected: Type.Integer({ minimum: 0 }) });
export type RevokedCertificate = Static<typeof RevokedCertificateSchema>;

export const GATEWAY_ROUTES = {
  'GET /api/gateways': { summary: 'Gateways with their availability and backlog', response: Type.Object({ gateways: Type.Array(GatewaySchema) }) },
  'POST /api/gateways': {
    summary: 'Provision a gateway; its MQTT password is returned once',
    body: Type.Object({ id: Type.String({ pattern: GATEWAY_ID_PATTERN }), name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false }),
    status: 201,
    response: ProvisionedGatewaySchema,
  },
  'POST /api/gateways/:id/credentials': {
    summary: "Rotate a gateway's MQTT password without a restart: its live session is closed and only the new password logs in (returned once)",
    params: Type.Object({ id: Type.String({ pattern: GATEWAY_ID_PATTERN }) }),
    body: Type.Object({ password: Type.Optional(Type.String({ minLength: 8, maxLength: 200, description: 'the new password; generated when absent' })) }, { additionalProperties: false }),
    response: RotatedGatewaySchema,
  },
  'POST /api/gateways/:id/certificates/revoke': {
    summary: "Revoke one of a gateway's client certificates (mutual TLS) by SHA-256 fingerprint; its live session is closed",
    params: Type.Object({ id: Type.String({ pattern: GATEWAY_ID_PATTERN }) }),
    body: Type.Object({ fingerprint: Type.String({ pattern: '^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$', description: 'SHA-256 fingerprint, hex, colons allowed' }) }, { additionalProperties: false }),
    response: RevokedCertificateSchema,
  },
} as const satisfies Record<string, RouteDef>;
