import Type from 'typebox';
import { commonOptions, defineDevice, stringArg } from '../device.ts';

/**
 * A one-button emergency call post (一键报警): someone presses the button, the post reports PRESSED;
 * a guard resets it on site (RESET). Spontaneous presses (tests, pranks) are off unless configured.
 */
export const emergencyPost = defineDevice({
  type: 'emergency-post',
  kind: 'emergency_post',
  prefix: 'sos',
  description: 'one-button emergency call post',
  options: Type.Object(
    {
      ...commonOptions,
      button: Type.String({ minLength: 1, maxLength: 32, default: 'front', description: 'button name reported with each press' }),
      meanPressIntervalS: Type.Number({ minimum: 0, default: 0, description: 'mean gap between spontaneous presses, simulated seconds; 0 = never' }),
      resetAfterS: Type.Number({ minimum: 1, default: 300, description: 'after a spontaneous press, a guard resets the post after this long' }),
    },
    { additionalProperties: false },
  ),
  actions: {
    press: 'the button is pressed (arg: button name)',
    reset: 'a guard resets the post',
  },
  create(ctx, o) {
    let pressed = false;
    let presses = 0;
    const send = (btn: 'PRESSED' | 'RESET', button: string): void => ctx.publish(`sos/${ctx.id}`, { btn, button });
    const press = (button: string): void => {
      pressed = true;
      presses++;
      send('PRESSED', button);
    };
    const reset = (): void => {
      if (!pressed) return;
      pressed = false;
      send('RESET', o.button);
    };

    return {
      state: () => ({ pressed, presses }),
      behave() {
        ctx.poisson(
          () => (o.meanPressIntervalS > 0 ? o.meanPressIntervalS : Infinity),
          () => {
            if (pressed) return;
            press(o.button);
            ctx.after(o.resetAfterS, reset);
          },
        );
      },
      actions: {
        press: (arg) => press(stringArg(arg, o.button)),
        reset,
      },
    };
  },
});
