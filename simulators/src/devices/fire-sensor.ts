import Type from 'typebox';
import { commonOptions, defineDevice, epochSeconds, numberArg, stringArg } from '../device.ts';

const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * A photoelectric smoke detector. Clean air reads a few tenths of a %/m with a little sensor noise;
 * the detector reports its state on every change and as a heartbeat (30 s by default).
 */
export const fireSensor = defineDevice({
  type: 'fire-sensor',
  kind: 'fire_sensor',
  prefix: 'fire',
  description: 'photoelectric smoke detector',
  options: Type.Object(
    {
      ...commonOptions,
      heartbeatS: Type.Number({ minimum: 1, default: 30, description: 'state heartbeat period, simulated seconds' }),
      cleanAir: Type.Number({ minimum: 0, maximum: 3, default: 0.35, description: 'obscuration in clean air, %/m' }),
      noise: Type.Number({ minimum: 0, maximum: 1, default: 0.04, description: 'sensor noise (standard deviation), %/m' }),
      smoke: Type.Number({ minimum: 1, maximum: 30, default: 8, description: 'obscuration reported in alarm, %/m' }),
    },
    { additionalProperties: false },
  ),
  actions: {
    alarm: 'smoke in the chamber: alarm true, obscuration high (arg: obscuration %/m)',
    clear: 'smoke gone and detector reset: alarm false, fault null',
    fault: 'the detector reports a fault (arg: fault code, default dirty_chamber)',
  },
  create(ctx, o) {
    let alarm = false;
    let fault: string | null = null;
    let level = o.cleanAir;
    let drift = 0;

    /** Mean-reverting noise, so consecutive readings look like one sensor rather than dice. */
    const sample = (): number => {
      drift = drift * 0.7 + ctx.rng.gauss() * o.noise;
      return Math.max(0, round2(level + drift));
    };
    const report = (): void => ctx.publish(ctx.topic('state'), { alarm, obscuration: sample(), fault, ts: epochSeconds() }, { qos: 1 });

    return {
      state: () => ({ alarm, fault, obscuration: level }),
      onConnect: report,
      behave() {
        ctx.every(o.heartbeatS, report);
      },
      actions: {
        alarm: (arg) => {
          level = numberArg(arg, o.smoke, 'alarm: obscuration');
          alarm = true;
          report();
        },
        clear: () => {
          alarm = false;
          fault = null;
          level = o.cleanAir;
          report();
        },
        fault: (arg) => {
          fault = stringArg(arg, 'dirty_chamber');
          report();
        },
      },
    };
  },
});
