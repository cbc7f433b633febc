import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HubError } from '../../errors.ts';
import type { FaceAdmin } from '../../faces/service.ts';
import { userOf } from '../access.ts';
import { MsEpoch, errors } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

const Nullable = <T extends Type.TSchema>(s: T) => Type.Union([s, Type.Null()]);
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 });
const Credentials = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 16, description: 'card numbers or QR codes: the alternative to the face at every point' });
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

const ConsentSchema = Type.Object({
  id: Type.Integer(),
  person: Type.String(),
  givenBy: Type.String(),
  givenAt: MsEpoch(),
  scope: Type.String(),
  recordedBy: Type.String(),
  withdrawnAt: Nullable(MsEpoch()),
  withdrawnBy: Nullable(Type.String()),
});

const PersonSchema = Type.Object({
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

const ConsentInput = Type.Object(
  { givenBy: Name, scope: Type.String({ minLength: 1, maxLength: 200, description: 'what the consent covers, e.g. "dorm check-in, lab access"' }), givenAt: Type.Optional(MsEpoch()) },
  { additionalProperties: false },
);

const ScopeSchema = Type.Object({
  gateway: Type.String(),
  dorms: Tags,
  buildings: Tags,
  watchlist: Type.Boolean({ description: 'the gateway has trajectory points: it gets the watch-list' }),
  version: Type.Integer(),
  acked: Nullable(Type.Integer({ description: 'version the gateway last reported holding' })),
  ackedAt: Nullable(MsEpoch()),
  members: Type.Integer(),
});

function faces(s: ApiServices): FaceAdmin {
  if (!s.faces) throw new HubError('not_found', 'face service (faces are not enabled on this hub)');
  return s.faces;
}

export const faceRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  const manage = (req: Parameters<typeof userOf>[0], dorms: readonly string[]) => {
    if (!faces(s).mayManage(userOf(req), dorms)) throw new HubError('forbidden');
  };
  const actor = (req: Parameters<typeof userOf>[0]) => userOf(req).username;

  app.get(
    '/api/faces/persons',
    {
      config: { access: ['security', 'dorm'] },
      schema: { summary: 'Enrolled persons (no templates, no photos)', tags: ['faces'], security: [{ bearer: [] }], response: { 200: Type.Object({ persons: Type.Array(PersonSchema) }), ...errors(401, 403) } },
    },
    async (req) => {
      const user = userOf(req);
      // A dorm manager sees the residents of their own dorms only (minimal disclosure).
      if (user.roles.includes('admin') || user.roles.includes('security')) return { persons: faces(s).list() };
      return { persons: faces(s).list().filter((p) => faces(s).mayManage(user, p.dorms)) };
    },
  );

  app.get(
    '/api/faces/persons/:id',
    {
      config: { access: ['security', 'dorm'] },
      schema: { summary: 'One person', tags: ['faces'], security: [{ bearer: [] }], params: IdParams, response: { 200: PersonSchema, ...errors(401, 403, 404) } },
    },
    async (req) => {
      const p = faces(s).get(req.params.id);
      const user = userOf(req);
      if (!user.roles.includes('security')) manage(req, p.dorms);
      return p;
    },
  );

  app.post(
    '/api/faces/persons',
    {
      config: { access: ['dorm'] },
      schema: {
        summary: 'Create a person (card/QR only until photos are enrolled)',
        tags: ['faces'],
        security: [{ bearer: [] }],
        body: Type.Object({ name: Name, roles: Type.Optional(Tags), dorms: Type.Optional(Tags), buildings: Type.Optional(Tags), credentials: Type.Optional(Credentials) }, { additionalProperties: false }),
        response: { 201: PersonSchema, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      manage(req, req.body.dorms ?? []);
      return reply.code(201).send(await faces(s).create(actor(req), req.body));
    },
  );

  app.patch(
    '/api/faces/persons/:id',
    {
      config: { access: ['dorm'] },
      schema: {
        summary: 'Change a person’s name, roles, memberships or credentials',
        tags: ['faces'],
        security: [{ bearer: [] }],
        params: IdParams,
        body: Type.Object({ name: Type.Optional(Name), roles: Type.Optional(Tags), dorms: Type.Optional(Tags), buildings: Type.Optional(Tags), credentials: Type.Optional(Credentials) }, { additionalProperties: false }),
        response: { 200: PersonSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const p = faces(s).get(req.params.id);
      manage(req, p.dorms);
      if (req.body.dorms) manage(req, req.body.dorms);
      return faces(s).update(actor(req), req.params.id, req.body);
    },
  );

  app.post(
    '/api/faces/persons/:id/enrol',
    {
      config: { access: ['dorm'] },
      // Photos are base64 in JSON: a few MB on this route only; the rest of the API keeps the small limit.
      bodyLimit: s.config.faces.maxPhotoBytes,
      schema: {
        summary: 'Enrol face photos: templates are computed on the hub and the photos dropped',
        tags: ['faces'],
        security: [{ bearer: [] }],
        params: IdParams,
        body: Type.Object(
          {
            photos: Type.Array(Type.String({ minLength: 16, description: 'PNG or JPEG, base64 (a data: URL prefix is accepted)' }), { minItems: 1, maxItems: 16 }),
            consent: Type.Optional(ConsentInput),
          },
          { additionalProperties: false },
        ),
        response: { 200: PersonSchema, ...errors(400, 401, 403, 404, 413) },
      },
    },
    async (req) => {
      manage(req, faces(s).get(req.params.id).dorms);
      const photos = req.body.photos.map((b) => Buffer.from(b.replace(/^data:[^,]*,/, ''), 'base64'));
      return faces(s).enrol(actor(req), req.params.id, photos, req.body.consent);
    },
  );

  app.post(
    '/api/faces/persons/:id/consent',
    {
      config: { access: ['dorm'] },
      schema: { summary: 'Record consent', tags: ['faces'], security: [{ bearer: [] }], params: IdParams, body: ConsentInput, response: { 200: PersonSchema, ...errors(400, 401, 403, 404) } },
    },
    async (req) => {
      const p = faces(s).get(req.params.id);
      manage(req, p.dorms);
      faces(s).repo.addConsent({ person: p.id, givenBy: req.body.givenBy, givenAt: req.body.givenAt ?? Date.now(), scope: req.body.scope, recordedBy: actor(req) });
      s.audit.record(actor(req), 'face.consent_record', p.id, { givenBy: req.body.givenBy, scope: req.body.scope });
      await faces(s).sync.changed([p.id]);
      return faces(s).get(p.id);
    },
  );

  app.post(
    '/api/faces/persons/:id/consent/withdraw',
    {
      config: { access: ['dorm'] },
      schema: {
        summary: 'Withdraw consent: face use stops on every gateway now; templates are deleted after the retention period',
        tags: ['faces'],
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: PersonSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      manage(req, faces(s).get(req.params.id).dorms);
      return faces(s).withdrawConsent(actor(req), req.params.id);
    },
  );

  app.post(
    '/api/faces/persons/:id/leave',
    {
      config: { access: ['dorm'] },
      schema: { summary: 'The person left: removed from every gateway; templates deleted after the retention period', tags: ['faces'], security: [{ bearer: [] }], params: IdParams, response: { 200: PersonSchema, ...errors(401, 403, 404) } },
    },
    async (req) => {
      manage(req, faces(s).get(req.params.id).dorms);
      return faces(s).leave(actor(req), req.params.id);
    },
  );

  app.delete(
    '/api/faces/persons/:id',
    {
      config: { access: ['dorm'] },
      schema: { summary: 'Delete a person and their templates everywhere (hub and every gateway)', tags: ['faces'], security: [{ bearer: [] }], params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } },
    },
    async (req, reply) => {
      manage(req, faces(s).get(req.params.id).dorms);
      await faces(s).remove(actor(req), req.params.id);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/api/faces/persons/:id/watchlist',
    {
      config: { access: ['security'] },
      schema: {
        summary: 'Put a person on the watch-list or take them off',
        tags: ['faces'],
        security: [{ bearer: [] }],
        params: IdParams,
        body: Type.Object({ on: Type.Boolean(), note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 200: PersonSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => faces(s).setWatchlist(actor(req), req.params.id, req.body.on, req.body.note),
  );

  app.post(
    '/api/faces/sightings/:eventId/correct',
    {
      config: { access: ['security'] },
      schema: {
        summary: '"Not this person": the match in this event was wrong; that person’s threshold at that point goes up',
        tags: ['faces'],
        security: [{ bearer: [] }],
        params: Type.Object({ eventId: Type.String({ maxLength: 64 }) }),
        body: Type.Object({ notPerson: Type.Literal(true), note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ correction: Type.Integer(), person: Type.String(), device: Type.String(), threshold: Type.Number() }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => faces(s).correct(actor(req), req.params.eventId, req.body.note),
  );

  app.get(
    '/api/faces/gateways',
    {
      config: { access: ['admin'] },
      schema: { summary: 'Which gateways get which people, and the gallery version each holds', tags: ['faces'], security: [{ bearer: [] }], response: { 200: Type.Object({ gateways: Type.Array(ScopeSchema) }), ...errors(401, 403) } },
    },
    async () => {
      const states = new Map(faces(s).sync.states().map((x) => [x.gateway, x]));
      return { gateways: faces(s).repo.scopes().map((sc) => ({ ...sc, ...states.get(sc.gateway)! })) };
    },
  );

  app.put(
    '/api/faces/gateways/:id',
    {
      config: { access: ['admin'] },
      schema: {
        summary: 'Set which people a gateway’s gallery holds',
        tags: ['faces'],
        security: [{ bearer: [] }],
        params: IdParams,
        body: Type.Object({ dorms: Tags, buildings: Tags, watchlist: Type.Boolean() }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      if (!s.gateways.exists(req.params.id)) throw new HubError('not_found', `gateway ${req.params.id}`);
      await faces(s).setScope(actor(req), { gateway: req.params.id, ...req.body });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/faces/retention/run',
    {
      config: { access: ['admin'] },
      schema: { summary: 'Run the retention job now (it also runs hourly)', tags: ['faces'], security: [{ bearer: [] }], response: { 200: Type.Object({ deleted: Type.Array(Type.String()) }), ...errors(401, 403) } },
    },
    async () => ({ deleted: await faces(s).retention() }),
  );
};
