import type { AlarmRule } from '../types.ts';

/** A door used outside its weekly schedule (alarms.schedules / doorSchedules, campus time zone). */
export const afterHours: AlarmRule = {
  id: 'after-hours',
  types: ['access.after_hours'],
  events: ['access.granted', 'door.opened'],
  create: (ctx) => ({
    onEvent(e) {
      // Most sites schedule few doors; skip the registry lookup when none is scheduled at all.
      if (ctx.settings.raw.doorSchedules.length === 0) return;
      const door = ctx.device(e.device);
      if (!door) return;
      if (ctx.settings.withinSchedule({ id: door.id, building: door.building }, e.ts) !== false) return;
      const credential = typeof e.data.credential === 'string' ? e.data.credential : undefined;
      ctx.raise({ type: 'access.after_hours', device: e.device, ts: e.ts, event: e, detail: { event: e.type, ...(credential ? { credential } : {}) } });
    },
  }),
};
