import Type, { type Static } from 'typebox';
import { literalUnion } from '../primitives.ts';
import { MsEpoch, type RouteDef } from './common.ts';

export const TELEMETRY_AGGS = ['avg', 'min', 'max', 'last', 'sum'] as const;
export type TelemetryAgg = (typeof TELEMETRY_AGGS)[number];

export const TelemetryQuerySchema = Type.Object(
  {
    device: Type.String({ minLength: 1, maxLength: 128 }),
    metric: Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' }),
    from: Type.Optional(MsEpoch('inclusive; default: 24 h before `to`')),
    to: Type.Optional(MsEpoch('exclusive; default: now')),
    step: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,5}(s|m|h|d)$', default: '15m', description: 'bucket width, e.g. 60s, 15m, 1h, 1d' })),
    agg: Type.Optional(literalUnion(TELEMETRY_AGGS, { default: 'avg' })),
  },
  { additionalProperties: false },
);

export const TelemetrySeriesSchema = Type.Object({
  device: Type.String(),
  metric: Type.String(),
  step: Type.String(),
  agg: Type.String(),
  points: Type.Array(Type.Tuple([Type.Number(), Type.Number()]), { description: '[bucket start ms, value], oldest first' }),
});
export type TelemetrySeries = Static<typeof TelemetrySeriesSchema>;

export const TELEMETRY_ROUTES = {
  'GET /api/telemetry': { summary: 'One metric of one device, downsampled into buckets of `step`', query: TelemetryQuerySchema, response: TelemetrySeriesSchema },
} as const satisfies Record<string, RouteDef>;
