import Type from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { durationMs } from '../../config.ts';
import { HubError } from '../../errors.ts';
import type { TelemetryAgg } from '../../store/telemetry.ts';
import { MsEpoch, errors } from '../schemas.ts';
import type { ApiServices } from '../services.ts';

const MAX_POINTS = 10_000;
const DAY = 86_400_000;

export const telemetryRoutes: FastifyPluginAsyncTypebox<{ s: ApiServices }> = async (app, { s }) => {
  app.get(
    '/api/telemetry',
    {
      config: { access: [] },
      schema: {
        summary: 'One metric of one device, downsampled into buckets of `step`',
        tags: ['telemetry'],
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            device: Type.String({ minLength: 1, maxLength: 128 }),
            metric: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
            from: Type.Optional(MsEpoch('inclusive; default: 24 h before `to`')),
            to: Type.Optional(MsEpoch('exclusive; default: now')),
            step: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}(s|m|h|d)$', default: '15m', description: 'bucket width, e.g. 60s, 15m, 1h, 1d' })),
            agg: Type.Optional(
              Type.Union([Type.Literal('avg'), Type.Literal('min'), Type.Literal('max'), Type.Literal('last'), Type.Literal('sum')], { default: 'avg' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            device: Type.String(),
            metric: Type.String(),
            step: Type.String(),
            agg: Type.String(),
            points: Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 2 }), { description: '[bucket start ms, value], oldest first' }),
          }),
          ...errors(400, 401),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const step = q.step ?? '15m';
      const agg: TelemetryAgg = q.agg ?? 'avg';
      const to = q.to ?? Date.now();
      const from = q.from ?? to - DAY;
      const stepMs = durationMs(step);
      if (from >= to) throw new HubError('bad_request', '`from` must be before `to`');
      if ((to - from) / stepMs > MAX_POINTS) throw new HubError('bad_request', `more than ${MAX_POINTS} buckets; use a larger step or a shorter range`);
      const points = await s.telemetry.query({ device: q.device, metric: q.metric, from, to, stepMs, agg });
      return { device: q.device, metric: q.metric, step, agg, points };
    },
  );
};
