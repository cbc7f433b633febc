import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { durationMs } from '../../config.ts';
import type { TelemetryAgg } from '../../store/telemetry.ts';
import { boundRange } from '../bounds.ts';
import { route } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

const MAX_POINTS = 10_000;
const DAY = 86_400_000;

export const telemetryRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/telemetry',
    {
      config: { access: [] },
      schema: { ...route('GET /api/telemetry', 400, 401, 503), tags: ['telemetry'], security: [{ bearer: [] }] },
    },
    async (req) => {
      const q = req.query;
      const step = q.step ?? '15m';
      const agg: TelemetryAgg = q.agg ?? 'avg';
      const to = q.to ?? Date.now();
      const from = q.from ?? to - DAY;
      const stepMs = durationMs(step);
      boundRange({ from, to, stepMs, maxPoints: MAX_POINTS, maxDays: s.config.limits.maxRangeDays, what: 'a telemetry query' });
      const points = await s.telemetry.query({ device: q.device, metric: q.metric, from, to, stepMs, agg });
      return { device: q.device, metric: q.metric, step, agg, points };
    },
  );
};
