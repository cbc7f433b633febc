/**
 * Simulated time. `speed` compresses it: at speed 60 a simulated hour passes in a real minute, so a
 * demo shows a whole day's load curve. Behaviour (traffic by hour, load curves, intervals) follows
 * simulated time; the timestamps devices put in their messages stay real, because the gateway and hub
 * judge them against their own clocks.
 */
export class SimClock {
  private readonly realOrigin: number;
  private readonly simOrigin: number;

  constructor(
    readonly speed = 1,
    /** Campus offset from UTC in hours; the default is China Standard Time. */
    readonly utcOffsetHours = 8,
    /** Campus hour of day (0-24) at which simulated time starts; undefined: the real hour now. */
    startHour?: number,
    realNow: number = Date.now(),
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`speed must be a positive number, got ${speed}`);
    this.realOrigin = realNow;
    if (startHour === undefined) {
      this.simOrigin = realNow;
    } else {
      const day = 86_400_000;
      const offset = utcOffsetHours * 3_600_000;
      const midnight = Math.floor((realNow + offset) / day) * day - offset;
      this.simOrigin = midnight + startHour * 3_600_000;
    }
  }

  /** Simulated epoch milliseconds. */
  now(realNow: number = Date.now()): number {
    return this.simOrigin + (realNow - this.realOrigin) * this.speed;
  }

  /** Fractional hour of day on campus, in simulated time: 13.5 is half past one in the afternoon. */
  hour(realNow?: number): number {
    const ms = (this.now(realNow) + this.utcOffsetHours * 3_600_000) % 86_400_000;
    return (ms + 86_400_000) % 86_400_000 / 3_600_000;
  }

  /** Real milliseconds that `seconds` of simulated time take. */
  realMs(seconds: number): number {
    return Math.max(0, (seconds * 1000) / this.speed);
  }
}
