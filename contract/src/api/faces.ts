import Type, { type Static } from 'typebox';
import { IdParams, MsEpoch, Nullable, type RouteDef } from './common.ts';

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 });
const Credentials = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 16, description: 'card numbers or QR codes: the alternative to the face at every point' });

export const ConsentSchema = Type.Object({
  id: Type.Integer(),
  person: Type.String(),
  givenBy: Type.String(),
  givenAt: MsEpoch(),
  scope: Type.String(),
  recordedBy: Type.String(),
  withdrawnAt: Nullable(MsEpoch()),
  withdrawnBy: Nullable(Type.String()),
});
export type Consent = Static<typeof ConsentSchema>;

/** An enrolled person as the hub answers it: no templates, no photos. */
export const PersonSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  roles: Type.Array(Type.String()),
  dorms: Type.Array(Type.String()),
  buildings: Type.Array(Type.String()),
  credentials: Type.Array(Type.String()),
  watchlist: Type.Boolean(),
  watchlistNote: Nullable(Type.String()),
  leftAt: Nullable(MsEpoch()),
  createdAt: MsEpoch(),
  updatedAt: MsEpoch(),
  templates: Type.Integer({ description: 'face templates held (encrypted); photos are never kept' }),
  consent: Nullable(ConsentSchema),
  consents: Type.Array(ConsentSchema),
});
export type Person = Static<typeof PersonSchema>;

export const ConsentInputSchema = Type.Object(
  { givenBy: Name, scope: Type.String({ minLength: 1, maxLength: 200, description: 'what the consent covers, e.g. "dorm check-in, lab access"' }), givenAt: Type.Optional(MsEpoch()) },
  { additionalProperties: false },
);
export type ConsentInput = Static<typeof ConsentInputSchema>;

export const PersonInputSchema = Type.Object(
  { name: Name, roles: Type.Optional(Tags), dorms: Type.Optional(Tags), buildings: Type.Optional(Tags), credentials: Type.Optional(Credentials) },
  { additionalProperties: false },
);
export const PersonPatchSchema = Type.Object(
  { name: Type.Optional(Name), roles: Type.Optional(Tags), dorms: Type.Optional(Tags), buildings: Type.Optional(Tags), credentials: Type.Optional(Credentials) },
  { additionalProperties: false },
);

/** Which people a gateway's gallery holds, and the version it reported holding. */
export const GalleryScopeSchema = Type.Object({
  gateway: Type.String(),
  dorms: Tags,
  buildings: Tags,
  watchlist: Type.Boolean({ description: 'the gateway has trajectory points: it gets the watch-list' }),
  version: Type.Integer(),
  acked: Nullable(Type.Integer({ description: 'version the gateway last reported holding' })),
  ackedAt: Nullable(MsEpoch()),
  members: Type.Integer(),
});
export type GalleryScope = Static<typeof GalleryScopeSchema>;

export const FaceCorrectionSchema = Type.Object({ correction: Type.Integer(), person: Type.String(), device: Type.String(), threshold: Type.Number() });

const Id = IdParams();

export const FACE_ROUTES = {
  'GET /api/faces/persons': { summary: 'Enrolled persons (no templates, no photos)', response: Type.Object({ persons: Type.Array(PersonSchema) }) },
  'GET /api/faces/persons/:id': { summary: 'One person', params: Id, response: PersonSchema },
  'POST /api/faces/persons': { summary: 'Create a person (card/QR only until photos are enrolled)', body: PersonInputSchema, status: 201, response: PersonSchema },
  'PATCH /api/faces/persons/:id': { summary: 'Change a person’s name, roles, memberships or credentials', params: Id, body: PersonPatchSchema, response: PersonSchema },
  'POST /api/faces/persons/:id/enrol': {
    summary: 'Enrol face photos: templates are computed on the hub and the photos dropped',
    params: Id,
    body: Type.Object(
      {
        photos: Type.Array(Type.String({ minLength: 16, description: 'PNG or JPEG, base64 (a data: URL prefix is accepted)' }), { minItems: 1, maxItems: 16 }),
        consent: Type.Optional(ConsentInputSchema),
      },
      { additionalProperties: false },
    ),
    response: PersonSchema,
  },
  'POST /api/faces/persons/:id/consent': { summary: 'Record consent', params: Id, body: ConsentInputSchema, response: PersonSchema },
  'POST /api/faces/persons/:id/consent/withdraw': {
    summary: 'Withdraw consent: face use stops on every gateway now; templates are deleted after the retention period',
    params: Id,
    response: PersonSchema,
  },
  'POST /api/faces/persons/:id/leave': { summary: 'The person left: removed from every gateway; templates deleted after the retention period', params: Id, response: PersonSchema },
  'DELETE /api/faces/persons/:id': { summary: 'Delete a person and their templates everywhere (hub and every gateway)', params: Id, status: 204, response: Type.Null() },
  'PUT /api/faces/persons/:id/watchlist': {
    summary: 'Put a person on the watch-list or take them off',
    params: Id,
    body: Type.Object({ on: Type.Boolean(), note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
    response: PersonSchema,
  },
  'POST /api/faces/sightings/:eventId/correct': {
    summary: '"Not this person": the match in this event was wrong; that person’s threshold at that point goes up',
    params: Type.Object({ eventId: Type.String({ maxLength: 64 }) }),
    body: Type.Object({ notPerson: Type.Literal(true), note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
    response: FaceCorrectionSchema,
  },
  'GET /api/faces/gateways': { summary: 'Which gateways get which people, and the gallery version each holds', response: Type.Object({ gateways: Type.Array(GalleryScopeSchema) }) },
  'PUT /api/faces/gateways/:id': {
    summary: 'Set which people a gateway’s gallery holds',
    params: Id,
    body: Type.Object({ dorms: Tags, buildings: Tags, watchlist: Type.Boolean() }, { additionalProperties: false }),
    status: 204,
    response: Type.Null(),
  },
  'POST /api/faces/retention/run': { summary: 'Run the retention job now (it also runs hourly)', response: Type.Object({ deleted: Type.Array(Type.String()) }) },
} as const satisfies Record<string, RouteDef>;
