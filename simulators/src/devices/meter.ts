import Type from 'typebox';
import { commonOptions, defineDevice, epochSeconds, numberArg } from '../device.ts';
import { ProfileSchema, activity } from '../daily.ts';

type Medium = 'power' | 'water' | 'gas';

/** Typical peak draw of one campus building: kW for power, m³/h for water and gas. */
const DEFAULT_PEAK: Record<Medium, number> = { power: 120, water: 6, gas: 18 };
/** Draw that never stops (servers, fridges, circulation pumps, pilot flames), as a share of the peak. */
const DEFAULT_BASE: Record<Medium, number> = { power: 0.18, water: 0.03, gas: 0.02 };
const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;
const DAY_MS = 86_400_000;

/**
 * A utility meter with an accumulating register. The instantaneous draw follows the building's day
 * (power: classes and lights; water: the morning and evening shower peaks of a dorm; gas: canteen meal
 * times) with noise; the register integrates it over simulated time and never goes backwards.
 */
export const meter = defineDevice({
  type: 'meter',
  kind: 'meter',
  prefix: 'meter',
  description: 'power, water or gas meter',
  options: Type.Object(
    {
      ...commonOptions,
      medium: Type.Union([Type.Literal('power'), Type.Literal('water'), Type.Literal('gas')], { default: 'power', description: 'what is measured' }),
      profile: ProfileSchema('office', 'daily load shape'),
      intervalS: Type.Number({ minimum: 1, default: 60, description: 'reading period, simulated seconds' }),
      peak: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'draw at the busiest hour: kW (power) or m³/h (water, gas); default by medium' })),
      base: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'constant draw as a share of the peak; default by medium' })),
      noise: Type.Number({ minimum: 0, maximum: 0.5, default: 0.08, description: 'relative noise of the instantaneous draw' }),
      initialTotal: Type.Optional(Type.Number({ minimum: 0, description: 'register at start; default drawn from the device seed' })),
      backfillDays: Type.Number({
        minimum: 0,
        maximum: 62,
        default: 0,
        description: 'at the first connection, first publish this many days of past readings (source timestamps in the past, oldest first, as fast as the broker takes them), then go live: a meter that has been running for a month',
      }),
      backfillStepS: Type.Integer({ minimum: 60, maximum: 3600, default: 900, description: 'spacing of the backfilled readings, seconds' }),
    },
    { additionalProperties: false },
  ),
  actions: {
    read: 'publish a reading now',
    leak: 'an extra constant draw starts: a burst pipe, a gas leak, equipment left on (arg: kW or m³/h, default 20% of the peak)',
    fix: 'the extra draw stops',
  },
  create(ctx, o) {
    const medium = o.medium;
    const peak = o.peak ?? DEFAULT_PEAK[medium];
    const base = o.base ?? DEFAULT_BASE[medium];
    let total = o.initialTotal ?? round(ctx.rng.float(1_000, 90_000), 2);
    let extra = 0;
    let lastSim = ctx.clock.now();
    let instant = 0;

    /** Draw at a campus hour of day (default: now in simulated time). */
    const draw = (hour = ctx.clock.hour()): number => {
      const shape = base + (1 - base) * activity(o.profile, hour);
      return Math.max(0, peak * shape * (1 + ctx.rng.gauss() * o.noise) + extra);
    };
    const campusHour = (ms: number): number => ((((ms + ctx.clock.utcOffsetHours * 3_600_000) % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;

    /** Trapezoid over the gap since the last reading, in simulated hours; a gap is never negative. */
    const advance = (): void => {
      const now = ctx.clock.now();
      const hours = Math.max(0, now - lastSim) / 3_600_000;
      lastSim = now;
      const next = draw();
      total += ((instant + next) / 2) * hours;
      instant = next;
    };

    /**
     * The month before going live, published in order with its own past timestamps (real time: the gateway
     * and hub judge timestamps on their clocks). The register starts at the initial total at the oldest
     * reading, so the live readings continue it. QoS 0 like every reading of this meter, so history and live
     * readings reach the gateway in the order they were sent (a broker may hold QoS 1 back behind QoS 0).
     */
    let backfillState: 'pending' | 'running' | 'done' = o.backfillDays === 0 ? 'done' : 'pending';
    let backfillCount = 0;
    /** Readings handed over before waiting for the connection to take them: the gateway stays responsive to its other devices. */
    const CHUNK = 50;
    const backfill = async (): Promise<void> => {
      backfillState = 'running';
      const step = o.backfillStepS * 1000;
      const now = Date.now();
      const digits = medium === 'power' ? 2 : 3;
      let t = Math.floor((now - o.backfillDays * DAY_MS) / step) * step;
      let inst = draw(campusHour(t));
      for (t += step; t < now; t += step) {
        const next = draw(campusHour(t));
        total += ((inst + next) / 2) * (step / 3_600_000);
        inst = next;
        backfillCount++;
        ctx.publish(ctx.topic('reading'), { total: round(total, digits), instant: round(inst, digits), ts: t / 1000 }, { qos: 0 });
        if (backfillCount % CHUNK === 0) {
          await ctx.drain();
          await new Promise((r) => setImmediate(r));
        }
      }
      await ctx.drain();
      lastSim = ctx.clock.now();
      instant = inst;
      backfillState = 'done';
      ctx.log.info({ readings: backfillCount, days: o.backfillDays }, 'meter history backfilled');
    };

    /** Live readings wait until the history is out, so the gateway receives every reading in time order. */
    const reading = (): void => {
      if (backfillState !== 'done') return;
      advance();
      const digits = medium === 'power' ? 2 : 3;
      ctx.publish(ctx.topic('reading'), { total: round(total, digits), instant: round(instant, digits), ts: epochSeconds() }, { qos: 0 });
    };

    instant = draw();
    return {
      state: () => ({ medium, total, instant, extra, backfilled: backfillCount, backfill: backfillState }),
      onConnect() {
        // A few seconds after the connection, so a campus of devices connects first and then sends its past.
        if (backfillState === 'pending') {
          backfillState = 'running';
          ctx.after(5, () => void backfill().catch((err: Error) => ctx.log.error({ err: err.message }, 'meter backfill failed')));
        }
      },
      behave() {
        ctx.every(o.intervalS, reading);
      },
      actions: {
        read: reading,
        leak: (arg) => {
          advance();
          extra = numberArg(arg, peak * 0.2, 'leak: extra draw');
        },
        fix: () => {
          advance();
          extra = 0;
        },
      },
    };
  },
});
