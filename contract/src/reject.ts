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
  /** Field: a client id that is not a configured field device (or holds MQTT wildcard / separator characters). */
  'client_id_refused',
  /** Field: a second connection with the id of a device already connected (refused; the first keeps its session). */
  'session_taken',
  /** Hub: a record from a device the hub has not adopted (unknown, or only proposed by a gateway's inventory). */
  'device_not_adopted',
  /** Hub: a safety event (fire, intrusion, emergency, door) from a device whose registered kind does not raise it. */
  'kind_mismatch',
  /** Hub: a gateway's inventory tried to change an adopted device's kind, building or zone. */
  'relabel_refused',
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
