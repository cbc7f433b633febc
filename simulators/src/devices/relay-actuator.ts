import Type from 'typebox';
import { commonOptions, defineDevice, type CommandOutcome } from '../device.ts';

/**
 * A relay/dimmer module switching a lighting or HVAC circuit. It reports its state at power-up, on
 * every change and periodically; it obeys set commands from the gateway and the wall switch on site.
 */
export const relayActuator = defineDevice({
  type: 'relay-actuator',
  kind: 'actuator',
  prefix: 'relay',
  description: 'relay or dimmer on a lighting or HVAC circuit',
  options: Type.Object(
    {
      ...commonOptions,
      circuit: Type.Union([Type.Literal('lighting'), Type.Literal('hvac')], { default: 'lighting', description: 'what the relay switches (informational)' }),
      on: Type.Boolean({ default: false, description: 'state at power-up' }),
      level: Type.Number({ minimum: 0, maximum: 100, default: 100, description: 'dimmer level at power-up, %' }),
      reportS: Type.Number({ minimum: 1, default: 300, description: 'periodic state report, simulated seconds' }),
    },
    { additionalProperties: false },
  ),
  actions: {
    set: 'the wall switch: arg {on, level?} or "on"/"off"',
    toggle: 'the wall switch is flipped',
  },
  create(ctx, o) {
    let on = o.on;
    let level = o.level;
    const report = (): void => ctx.publish(ctx.topic('state'), { on, level });

    const apply = (msg: Record<string, unknown>): CommandOutcome => {
      if (typeof msg.on !== 'boolean') return { ok: false, error: `on must be true or false, got ${JSON.stringify(msg.on)}` };
      if (msg.level !== undefined && (typeof msg.level !== 'number' || !(msg.level >= 0 && msg.level <= 100))) {
        return { ok: false, error: `level must be a number from 0 to 100, got ${JSON.stringify(msg.level)}` };
      }
      on = msg.on;
      if (typeof msg.level === 'number') level = msg.level;
      report();
      return { ok: true };
    };

    return {
      state: () => ({ on, level, circuit: o.circuit }),
      onConnect: report,
      behave() {
        ctx.every(o.reportS, report);
      },
      actions: {
        set: (arg) => {
          const msg = arg === 'on' ? { on: true } : arg === 'off' ? { on: false } : arg;
          if (typeof msg !== 'object' || msg === null) throw new Error(`set: arg must be {on, level?}, "on" or "off", got ${JSON.stringify(arg)}`);
          const r = apply(msg as Record<string, unknown>);
          if (!r.ok) throw new Error(`set: ${r.error}`);
        },
        toggle: () => void apply({ on: !on }),
      },
      commands: [
        {
          suffix: 'set',
          handle: apply,
          reply: (ref, r) => (r.ok ? { ref, ok: true } : { ref, ok: false, err: r.error }),
        },
      ],
    };
  },
});
