import fastifySwagger from '@fastify/swagger';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError } from 'fastify';
import { pino, type Logger } from 'pino';
import { HubError, errorBody } from '../errors.ts';
import { TELEMETRY_FAILURE, TelemetryStoreError } from '../store/influx-http.ts';
import { registerAccess } from './access.ts';
import { registerDashboard } from './dashboard.ts';
import { snapshotRoutes } from '../snapshots/routes.ts';
import { httpsOptions } from './tls.ts';
import { registerRateLimit } from './rate-limit.ts';
import { alarmRoutes } from './routes/alarms.ts';
import { attendanceRoutes } from './routes/attendance.ts';
import { auditRoutes } from './routes/audit.ts';
import { authRoutes } from './routes/auth.ts';
import { deviceRoutes } from './routes/devices.ts';
import { energyRoutes } from './routes/energy.ts';
import { eventRoutes } from './routes/events.ts';
import { faceRoutes } from './routes/faces.ts';
import { gatewayRoutes } from './routes/gateways.ts';
import { healthRoutes } from './routes/health.ts';
import { siteRoutes } from './routes/site.ts';
import { telemetryRoutes } from './routes/telemetry.ts';
import { userRoutes } from './routes/users.ts';
import { cameraRoutes } from '../cameras/routes.ts';
import { videoRoutes } from '../video/routes.ts';
import type { ApiApp, ApiServices } from './services.ts';

function validationDetail(err: FastifyError): string {
  const parts = (err.validation ?? []).slice(0, 3).map((v) => `${err.validationContext ?? 'request'}${v.instancePath || ''}: ${v.message ?? 'invalid'}`);
  return parts.join('; ') || err.message;
}

/** The REST API, its OpenAPI description and the console, on one fastify instance (not yet listening). */
export async function buildApi(s: ApiServices, log: Logger | false): Promise<ApiApp> {
  // Per-request log lines would drown the log at console polling rates; errors are still logged.
  const common = { forceCloseConnections: true, bodyLimit: 64 * 1024, logController: new LogController({ disableRequestLogging: true }) };
  // HTTPS when http.tls is set (hub/src/api/tls.ts); the server type differs only in TLS, which no route sees.
  const app = Fastify({ ...common, ...(httpsOptions(s.config.http) as object), loggerInstance: (log === false ? pino({ enabled: false }) : log) as FastifyBaseLogger })
    .setValidatorCompiler(TypeBoxValidatorCompiler)
    .withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof HubError) return reply.code(err.status).headers(err.headers).send(errorBody(err.code, err.message));
    if (err instanceof TelemetryStoreError) {
      // A telemetry server (hub.yaml `telemetry:`) that is down or refuses: the caller learns it is temporary; the log has the server's answer.
      req.log.warn({ err, url: req.url }, 'telemetry server failed');
      const e = new HubError('telemetry_unavailable', TELEMETRY_FAILURE[err.kind]);
      return reply.code(e.status).send(errorBody(e.code, e.message));
    }
    if (err.validation) return reply.code(400).send(errorBody('validation_failed', `The request is not valid: ${validationDetail(err)}`));
    // fastify's own client errors (malformed JSON, body too large, wrong content type) have safe messages.
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(errorBody(err.statusCode === 413 ? 'payload_too_large' : 'bad_request', err.message));
    }
    req.log.error({ err, url: req.url }, 'request failed');
    return reply.code(500).send(errorBody('internal_error', 'Internal error; the hub log has the details'));
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Warden hub API', version: s.version, description: 'REST API of the Warden hub. Live feed: socket.io at /socket.io.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    // Only the API is described; the console's files are not.
    transform: ({ schema, url }) => ({ schema: url.startsWith('/api/') ? schema : { ...schema, hide: true }, url }),
  });
  registerAccess(app, s);
  // After authentication (its hook runs first), so the limit is per user.
  registerRateLimit(app, s.config.limits, s.metrics.registry);
  app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
  for (const routes of [healthRoutes, authRoutes, cameraRoutes, videoRoutes, gatewayRoutes, deviceRoutes, eventRoutes, telemetryRoutes, auditRoutes, alarmRoutes, siteRoutes, energyRoutes, faceRoutes, attendanceRoutes, userRoutes, ...(s.snapshots ? [snapshotRoutes(s.snapshots)] : [])]) {
    await app.register(routes, { s });
  }
  await registerDashboard(app, s.config.dashboard.dir);
  return app;
}
