/** Why a message was refused. Every refusal increments a counter labelled with one of these. */
export const REJECT_REASONS = [
  'malformed_json',
  'schema_invalid',
  'unknown_type',
  'unknown_device',
  'wrong_gateway',
  'oversized',
  'auth_failed',
  'acl_publish_denied',
  'acl_subscribe_denied',
  'unknown_topic',
  'expired',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface LogSink {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/**
 * Logs at most one line per reason per interval, carrying how many were suppressed in between,
 * so a flood of bad input cannot flood the log (the counters still see every one).
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly sink: LogSink,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(reason: string, fields: Record<string, unknown>, msg: string): boolean {
    const t = this.now();
    const entry = this.last.get(reason);
    if (entry && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return false;
    }
    this.sink.warn({ reason, ...fields, ...(entry?.suppressed ? { suppressed: entry.suppressed } : {}) }, msg);
    this.last.set(reason, { at: t, suppressed: 0 });
    return true;
  }
}
