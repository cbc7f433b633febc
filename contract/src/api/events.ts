import Type, { type Static } from 'typebox';
import { Cursor, Limit, MsEpoch, Nullable, type RouteDef } from './common.ts';

/** A stored event as the hub answers it (GET /api/events) and pushes it live (`event`). */
export const HubEventSchema = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  gateway: Type.String(),
  device: Type.String(),
  /** Always a contract event type (EVENT_TYPES) when it comes from this hub; a plain string so an older console survives a newer hub. */
  type: Type.String(),
  ts: Type.Integer({ description: 'source time, ms epoch' }),
  receivedAt: Type.Integer({ description: 'when the hub stored it, ms epoch' }),
  data: Type.Record(Type.String(), Type.Unknown()),
});
export type HubEvent = Static<typeof HubEventSchema>;

export const EventsQuerySchema = Type.Object(
  {
    from: Type.Optional(MsEpoch('source time >= from (ms epoch)')),
    to: Type.Optional(MsEpoch('source time <= to (ms epoch)')),
    device: Type.Optional(Type.String({ maxLength: 128 })),
    gateway: Type.Optional(Type.String({ maxLength: 64 })),
    type: Type.Optional(Type.String({ pattern: '^[a-z_]+(\\.[a-z_]+|\\.\\*)?$', maxLength: 64, description: 'exact type or a family such as door.*' })),
    limit: Type.Optional(Limit),
    before: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

export const EventsPageSchema = Type.Object({ events: Type.Array(HubEventSchema), next: Nullable(Type.String()) });
export type EventsPage = Static<typeof EventsPageSchema>;

export const EVENT_ROUTES = {
  'GET /api/events': { summary: 'Stored events, newest arrival first, in pages', query: EventsQuerySchema, response: EventsPageSchema },
} as const satisfies Record<string, RouteDef>;
