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

/** Where an account's failed logins are kept (state.db's login_failures, so a hub restart does not reset them). */
export interface FailureStore {
  addFailure(username: string, at: number): void;
  failuresSince(username: string, since: number): number;
  clearFailures(username: string): void;
  /** Drops failures older than `before` (every account). */
  pruneFailures(before: number): void;
}

/** Failures in memory (a hub without state, tests of the limiter alone). */
export class MemoryFailureStore implements FailureStore {
  private readonly m = new Map<string, number[]>();
  addFailure(username: string, at: number): void {
    this.m.set(username, [...(this.m.get(username) ?? []), at]);
  }
  failuresSince(username: string, since: number): number {
    return (this.m.get(username) ?? []).filter((t) => t > since).length;
  }
  clearFailures(username: string): void {
    this.m.delete(username);
  }
  pruneFailures(before: number): void {
    for (const [k, v] of this.m) {
      const keep = v.filter((t) => t > before);
      if (keep.length) this.m.set(k, keep);
      else this.m.delete(k);
    }
  }
}

/**
 * Account lockout (GB 50396: an alarm after at most 5 failures): `threshold` failed logins on one account within
 * `windowMs`, from any address, lock it for `windowMs`. An admin or a security supervisor can unlock it sooner.
 * `fail` answers true exactly when this failure locked the account. The failures live in `store` (the hub passes
 * its state.db), so restarting the hub between attempts does not reset the count.
 */
export class AccountLockout {
  private lastPrune = 0;
  constructor(
    readonly threshold: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly store: FailureStore = new MemoryFailureStore(),
  ) {}

  fail(username: string): boolean {
    const now = this.now();
    if (now - this.lastPrune > this.windowMs) {
      this.store.pruneFailures(now - this.windowMs);
      this.lastPrune = now;
    }
    this.store.addFailure(username, now);
    if (this.store.failuresSince(username, now - this.windowMs) >= this.threshold) {
      this.store.clearFailures(username);
      return true;
    }
    return false;
  }

  /** Failed logins of the account still inside the window. */
  count(username: string): number {
    return this.store.failuresSince(username, this.now() - this.windowMs);
  }

  reset(username: string): void {
    this.store.clearFailures(username);
  }
}
