import type { AlarmRule } from '../types.ts';

/**
 * A door left open: either the controller says so (door.held_open), or the hub sees door.opened and no
 * door.closed within heldOpenSeconds (source time), for controllers that report only opened/closed.
 * A door released on purpose (a confirmed door.hold_open command, e.g. fire evacuation) is not "held open"
 * until a confirmed door.normal.
 */
export const doorHeldOpen: AlarmRule = {
  id: 'door-held-open',
  types: ['door.held_open'],
  events: ['door.opened', 'door.closed', 'door.held_open', 'command.result'],
  create(ctx) {
    const limitMs = ctx.settings.raw.heldOpenSeconds * 1000;
    /** door -> when it counts as held open (source time) and the opening event; durable across hub restarts. */
    const pending = ctx.state<{ due: number; eventId: string }>('pending');
    /** Doors released on purpose (value true), durable as well. */
    const released = ctx.state<true>('released');
    return {
      onEvent(e) {
        if (e.type === 'command.result') {
          if (e.data.ok !== true) return;
          if (e.data.action === 'door.hold_open') {
            released.set(e.device, true);
            pending.delete(e.device);
          } else if (e.data.action === 'door.normal') released.delete(e.device);
          return;
        }
        if (e.type === 'door.closed') {
          pending.delete(e.device);
          ctx.clear({ type: 'door.held_open', device: e.device, ts: e.ts, event: e });
          return;
        }
        if (released.has(e.device)) return;
        if (e.type === 'door.opened') {
          if (!pending.has(e.device)) pending.set(e.device, { due: e.ts + limitMs, eventId: e.id });
        } else {
          pending.delete(e.device);
          ctx.raise({ type: 'door.held_open', device: e.device, ts: e.ts, event: e, detail: e.data });
        }
      },
      tick(now) {
        for (const [device, p] of pending) {
          if (now < p.due) continue;
          pending.delete(device);
          ctx.raise({ type: 'door.held_open', device, ts: p.due, detail: { seconds: ctx.settings.raw.heldOpenSeconds, openedEvent: p.eventId } });
        }
      },
    };
  },
};
