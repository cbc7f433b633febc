import { HubError } from '../errors.ts';

const DAY = 86_400_000;

/**
 * The one check of a query's date range and resolution (events, telemetry, energy routes): `from` before `to`,
 * at most `maxDays` between them, and at most `maxPoints` buckets of `stepMs`. Every refusal is a 400 naming the limit.
 */
export function boundRange(q: { from: number; to: number; maxDays: number; stepMs?: number; maxPoints?: number; what?: string }): void {
  const what = q.what ?? 'this query';
  if (!(q.from < q.to)) throw new HubError('bad_request', '`from` must be before `to`');
  const days = (q.to - q.from) / DAY;
  if (days > q.maxDays) {
    throw new HubError('bad_request', `the range of ${what} is at most ${q.maxDays} days (asked ${Math.ceil(days)}); ask for a shorter range`);
  }
  if (q.stepMs !== undefined && q.maxPoints !== undefined && (q.to - q.from) / q.stepMs > q.maxPoints) {
    throw new HubError('bad_request', `${what} answers at most ${q.maxPoints} buckets (asked ${Math.ceil((q.to - q.from) / q.stepMs)}); use a larger step or a shorter range`);
  }
}
