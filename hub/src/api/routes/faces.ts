import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HubError } from '../../errors.ts';
import type { FaceAdmin } from '../../faces/service.ts';
import { userOf } from '../access.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

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
      schema: { ...route('GET /api/faces/persons', 401, 403), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('GET /api/faces/persons/:id', 401, 403, 404), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('POST /api/faces/persons', 400, 401, 403), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('PATCH /api/faces/persons/:id', 400, 401, 403, 404), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('POST /api/faces/persons/:id/enrol', 400, 401, 403, 404, 413), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('POST /api/faces/persons/:id/consent', 400, 401, 403, 404), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('POST /api/faces/persons/:id/consent/withdraw', 400, 401, 403, 404), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('POST /api/faces/persons/:id/leave', 401, 403, 404), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('DELETE /api/faces/persons/:id', 401, 403, 404), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('PUT /api/faces/persons/:id/watchlist', 400, 401, 403, 404), tags: ['faces'], security: [{ bearer: [] }] },
    },
    async (req) => faces(s).setWatchlist(actor(req), req.params.id, req.body.on, req.body.note),
  );

  app.post(
    '/api/faces/sightings/:eventId/correct',
    {
      config: { access: ['security'] },
      schema: { ...route('POST /api/faces/sightings/:eventId/correct', 400, 401, 403, 404), tags: ['faces'], security: [{ bearer: [] }] },
    },
    async (req) => faces(s).correct(actor(req), req.params.eventId, req.body.note),
  );

  app.get(
    '/api/faces/gateways',
    {
      config: { access: ['admin'] },
      schema: { ...route('GET /api/faces/gateways', 401, 403), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('PUT /api/faces/gateways/:id', 400, 401, 403, 404), tags: ['faces'], security: [{ bearer: [] }] },
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
      schema: { ...route('POST /api/faces/retention/run', 401, 403), tags: ['faces'], security: [{ bearer: [] }] },
    },
    async () => ({ deleted: await faces(s).retention() }),
  );
};
