import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { nightsCsv, nightsXlsx } from '../../attendance/export.ts';
import { attendanceScope } from '../../attendance/module.ts';
import type { AttendanceService, Scope } from '../../attendance/service.ts';
import { addDays } from '../../attendance/tz.ts';
import { HubError } from '../../errors.ts';
import { userOf } from '../access.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const ROSTER_BODY_LIMIT = 32 * 1024 * 1024;

/**
 * Dorm attendance (hub/src/attendance). Dorm managers see and act on their assigned buildings only
 * (`faces.dormManagers`); settings and roster imports are the admin's.
 */
export const attendanceRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  const svc = (): AttendanceService => {
    if (!s.attendance) throw new HubError('not_found', 'attendance module');
    return s.attendance;
  };
  const scope = (req: FastifyRequest): Scope => attendanceScope(userOf(req), s.config);
  const actor = (req: FastifyRequest) => userOf(req).username;
  const tonight = () => svc().calendar.nightOf(s.clock());
  const tags = ['attendance'];
  const security = [{ bearer: [] }];

  app.get('/api/attendance/settings', { config: { access: ['admin'] }, schema: { ...route('GET /api/attendance/settings', 401, 403), tags, security } }, async () => svc().settings());

  app.put(
    '/api/attendance/settings',
    { config: { access: ['admin'] }, schema: { ...route('PUT /api/attendance/settings', 400, 401, 403), tags, security } },
    async (req) => svc().updateSettings(req.body, actor(req)),
  );

  app.post(
    '/api/attendance/roster',
    { config: { access: ['admin'] }, bodyLimit: ROSTER_BODY_LIMIT, schema: { ...route('POST /api/attendance/roster', 400, 401, 403, 413), tags, security } },
    async (req) => {
      const data = Buffer.from(req.body.data.replace(/^data:[^,]*,/, ''), 'base64');
      if (data.length === 0) throw new HubError('validation_failed', 'data is not base64 or empty');
      return svc().importRoster(data, req.body.format, req.body.effective, req.body.apply, actor(req));
    },
  );

  app.get('/api/attendance/buildings', { config: { access: ['dorm'] }, schema: { ...route('GET /api/attendance/buildings', 401, 403), tags, security } }, async (req) => {
    return { buildings: svc().visibleBuildings(scope(req)) };
  });

  app.get('/api/attendance/board', { config: { access: ['dorm'] }, schema: { ...route('GET /api/attendance/board', 400, 401, 403), tags, security } }, async (req) =>
    svc().board(req.query.night ?? tonight(), scope(req)),
  );

  const exceptions = (req: FastifyRequest, night: string, building?: string) => {
    const rows = svc().exceptions(night, scope(req));
    return building ? rows.filter((r) => r.building === building) : rows;
  };

  app.get('/api/attendance/exceptions', { config: { access: ['dorm'] }, schema: { ...route('GET /api/attendance/exceptions', 400, 401, 403), tags, security } }, async (req) => {
    const night = req.query.night ?? tonight();
    return { night, asOf: s.clock(), rows: exceptions(req, night, req.query.building) };
  });

  app.get(
    '/api/attendance/export',
    { config: { access: ['dorm'] }, schema: { ...route('GET /api/attendance/export', 400, 401, 403), tags, security } },
    async (req, reply) => {
      const night = req.query.night ?? tonight();
      const rows = req.query.all ? svc().night(night, scope(req)) : exceptions(req, night);
      const tz = svc().calendar.timeZone;
      const name = `attendance-${night}${req.query.all ? '-all' : ''}.${req.query.format}`;
      const file = req.query.format === 'xlsx' ? await nightsXlsx(rows, tz, night) : nightsCsv(rows, tz);
      return reply
        .header('content-type', req.query.format === 'xlsx' ? XLSX_MIME : 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(file as never);
    },
  );

  app.get(
    '/api/attendance/students/:id',
    { config: { access: ['dorm'] }, schema: { ...route('GET /api/attendance/students/:id', 400, 401, 403, 404), tags, security } },
    async (req) => {
      const to = req.query.to ?? tonight();
      return svc().history(req.params.id, req.query.from ?? addDays(to, -60), to, scope(req));
    },
  );

  app.get('/api/attendance/summary', { config: { access: ['dorm'] }, schema: { ...route('GET /api/attendance/summary', 400, 401, 403), tags, security } }, async (req) => {
    const night = req.query.night ?? tonight();
    if (req.query.period === 'semester') {
      const sem = svc().semesterOf(night);
      return svc().summary(sem.from, sem.to, 'semester', scope(req));
    }
    // The week (Monday to Sunday) containing the night, beside the three before it for the trend.
    const monday = addDays(night, -((new Date(`${night}T00:00:00Z`).getUTCDay() + 6) % 7));
    return svc().summary(addDays(monday, -21), addDays(monday, 6), 'week', scope(req));
  });

  app.get('/api/attendance/leaves', { config: { access: ['dorm'] }, schema: { ...route('GET /api/attendance/leaves', 401, 403), tags, security } }, async (req) => ({
    leaves: svc().leaves(scope(req), req.query.student),
  }));

  app.post(
    '/api/attendance/leaves',
    { config: { access: ['dorm'] }, schema: { ...route('POST /api/attendance/leaves', 400, 401, 403, 404), tags, security } },
    async (req, reply) => reply.code(201).send(svc().requestLeave(req.body, actor(req), scope(req))),
  );

  for (const action of ['approve', 'reject', 'revoke'] as const) {
    app.post(
      `/api/attendance/leaves/:id/${action}`,
      { config: { access: ['dorm'] }, schema: { ...route(`POST /api/attendance/leaves/:id/${action}`, 400, 401, 403, 404, 409), tags, security } },
      async (req) => svc().decideLeave((req.params as { id: number }).id, action, actor(req), scope(req)),
    );
  }
};
