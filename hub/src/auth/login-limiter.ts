/**
 * Failed logins per key (username + client address) in a sliding window. Once a key reaches the limit, further
 * attempts are refused without checking the password until the oldest failure leaves the window.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait when the key is blocked, else 0. */
  blockedFor(key: string): number {
    const times = this.recent(key);
    if (times.length < this.limit) return 0;
    return Math.max(1, Math.ceil((times[0]! + this.windowMs - this.now()) / 1000));
  }

  fail(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    this.failures.set(key, times);
    // Bound memory under a spray of usernames: forget keys whose failures have all expired.
    if (this.failures.size > 10_000) for (const k of [...this.failures.keys()]) if (this.recent(k).length === 0) this.failures.delete(k);
  }

  /** Failures of the key still inside the window. */
  count(key: string): number {
    return this.recent(key).length;
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const times = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) this.failures.delete(key);
    else this.failures.set(key, times);
    return times;
  }
}

/**
 * Account lockout (GB 50396: an alarm after at most 5 failures): `threshold` failed logins on one account within
 * `windowMs`, from any address, lock it for `windowMs`. An admin or a security supervisor can unlock it sooner.
 * `fail` answers true exactly when this failure locked the account.
 */
export class AccountLockout {
  private readonly failures: LoginLimiter;
  constructor(
    readonly threshold: number,
    readonly windowMs: number,
    now: () => number = Date.now,
  ) {
    this.failures = new LoginLimiter(Number.MAX_SAFE_INTEGER, windowMs, now);
  }

  fail(username: string): boolean {
    this.failures.fail(username);
    if (this.failures.count(username) >= this.threshold) {
      this.failures.succeed(username);
      return true;
    }
    return false;
  }

  reset(username: string): void {
    this.failures.succeed(username);
  }
}
