import Type from 'typebox';
import { commonOptions, defineDevice, stringArg, type CommandOutcome } from '../device.ts';

type Status = 'NORMAL' | 'ALARM' | 'TAMPER';

/**
 * One zone of an intrusion-alarm panel (重点区域安防报警系统): a detector loop that is armed or
 * disarmed from the keypad or remotely. A trip while armed latches ALARM until restored or disarmed;
 * tamper is reported whether armed or not. Like a real panel, it refuses to arm a zone that is not ready.
 */
export const intrusionZone = defineDevice({
  type: 'intrusion-zone',
  kind: 'intrusion_zone',
  prefix: 'ias',
  description: 'intrusion alarm panel zone',
  options: Type.Object(
    {
      ...commonOptions,
      zone: Type.String({ minLength: 1, maxLength: 16, default: 'Z1', description: 'zone label on the panel' }),
      panel: Type.Optional(Type.String({ maxLength: 32, description: 'alarm system this zone belongs to (informational)' })),
      armed: Type.Boolean({ default: true, description: 'armed at power-up' }),
      user: Type.String({ minLength: 1, maxLength: 32, default: 'guard01', description: 'keypad user for local arm/disarm' }),
      falseAlarmsPerDay: Type.Number({ minimum: 0, default: 0, description: 'spontaneous trips per simulated day while armed (insects, draughts)' }),
    },
    { additionalProperties: false },
  ),
  actions: {
    alarm: 'the detector trips; ALARM while armed (rejected when disarmed)',
    tamper: 'the detector or its cable is tampered with: TAMPER',
    restore: 'the zone returns to NORMAL',
    arm: 'armed from the keypad (arg: user)',
    disarm: 'disarmed from the keypad (arg: user); clears a latched alarm',
  },
  create(ctx, o) {
    let armed = o.armed;
    let status: Status = 'NORMAL';
    let armedBy = o.user;

    const zone = (s: Status): void => {
      status = s;
      ctx.publish(ctx.topic('zone'), { zone: o.zone, status });
    };
    const arming = (): void => ctx.publish(ctx.topic('arm'), { armed, user: armedBy });

    const setArmed = (want: boolean, user: string): CommandOutcome => {
      if (want && status !== 'NORMAL') return { ok: false, error: `zone ${o.zone} not ready (${status})` };
      if (armed === want) return { ok: true };
      armed = want;
      armedBy = user;
      arming();
      if (!want && status === 'ALARM') zone('NORMAL');
      return { ok: true };
    };

    const trip = (): void => {
      if (!armed) throw new Error(`${ctx.id}: zone ${o.zone} is disarmed; a trip raises no alarm`);
      if (status !== 'ALARM') zone('ALARM');
    };

    return {
      state: () => ({ zone: o.zone, armed, status }),
      onConnect() {
        arming();
        zone(status);
      },
      behave() {
        ctx.poisson(
          () => (o.falseAlarmsPerDay > 0 ? 86_400 / o.falseAlarmsPerDay : Infinity),
          () => {
            if (!armed || status !== 'NORMAL') return;
            zone('ALARM');
            ctx.after(ctx.rng.float(20, 90), () => status === 'ALARM' && zone('NORMAL'));
          },
        );
      },
      actions: {
        alarm: trip,
        tamper: () => {
          if (status !== 'TAMPER') zone('TAMPER');
        },
        restore: () => {
          if (status !== 'NORMAL') zone('NORMAL');
        },
        arm: (arg) => {
          const r = setArmed(true, stringArg(arg, o.user));
          if (!r.ok) throw new Error(`${ctx.id}: ${r.error}`);
        },
        disarm: (arg) => void setArmed(false, stringArg(arg, o.user)),
      },
      commands: [
        {
          suffix: 'cmd',
          handle: (msg) => {
            if (msg.cmd === 'ARM') return setArmed(true, 'remote');
            if (msg.cmd === 'DISARM') return setArmed(false, 'remote');
            return { ok: false, error: `cmd must be ARM or DISARM, got ${JSON.stringify(msg.cmd)}` };
          },
          reply: (ref, r) => (r.ok ? { ref, ok: true } : { ref, ok: false, err: r.error }),
        },
      ],
    };
  },
});
