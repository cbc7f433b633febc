import Type, { type Static } from 'typebox';
import { Nullable, type RouteDef } from './common.ts';

export const SiteMarkerSchema = Type.Object({
  device: Type.String(),
  x: Type.Number(),
  y: Type.Number(),
  kind: Nullable(Type.String()),
  name: Nullable(Type.String()),
  building: Nullable(Type.String()),
  zone: Nullable(Type.String()),
  online: Type.Boolean(),
});
export type SiteMarker = Static<typeof SiteMarkerSchema>;

export const SiteSchema = Type.Object({
  plan: Nullable(Type.Object({ svg: Type.String(), width: Type.Integer(), height: Type.Integer() })),
  markers: Type.Array(SiteMarkerSchema),
});
export type Site = Static<typeof SiteSchema>;

export const SITE_ROUTES = {
  'GET /api/site': { summary: 'Site plan and device markers', response: SiteSchema },
} as const satisfies Record<string, RouteDef>;
