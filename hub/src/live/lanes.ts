import type { Socket } from 'socket.io';
import type { Counter } from 'prom-client';

/** Live messages that never wait: alarms, linkage, availability, and the safety events themselves. */
export function isPriorityLive(name: string, msg: unknown): boolean {
  if (name !== 'event' && name !== 'attendance') return true;
  if (name === 'attendance') return false;
  const type = (msg as { type?: unknown }).type;
  return typeof type === 'string' && (type.startsWith('fire.') || type.startsWith('intrusion.') || type.startsWith('emergency.') || type === 'door.forced' || type.endsWith('.tamper'));
}

/** Packets engine.io may hold for a socket before bulk messages wait in the feed's own queue. */
const BUSY_PACKETS = 32;
/** Bulk messages a slow console may have waiting; beyond it the oldest are shed (counted; the console reloads history over REST). */
const MAX_QUEUED = 20_000;

interface Lane {
  queue: Array<[string, unknown]>;
  pumping: boolean;
}

/**
 * Two lanes per console socket: priority messages are written at once; bulk ones (routine events, attendance) are
 * written only while the socket's transport keeps up, otherwise queued in order and written as it drains. So during a
 * storm a console's alarm is never behind thousands of routine events in its socket buffer.
 */
export class LiveLanes {
  private readonly lanes = new WeakMap<Socket, Lane>();
  constructor(private readonly shed: Counter<'reason'>) {}

  send(socket: Socket, name: string, msg: unknown): void {
    if (isPriorityLive(name, msg)) return void socket.emit(name, msg as never);
    const conn = socket.conn as unknown as { writeBuffer?: unknown[]; once(ev: 'drain', fn: () => void): void };
    let lane = this.lanes.get(socket);
    if (!lane?.queue.length && (conn.writeBuffer?.length ?? 0) < BUSY_PACKETS) return void socket.emit(name, msg as never);
    if (!lane) this.lanes.set(socket, (lane = { queue: [], pumping: false }));
    lane.queue.push([name, msg]);
    if (lane.queue.length > MAX_QUEUED) {
      lane.queue.shift();
      this.shed.inc({ reason: 'slow_console' });
    }
    if (!lane.pumping) {
      lane.pumping = true;
      const l = lane;
      const pump = () => {
        while (l.queue.length && (conn.writeBuffer?.length ?? 0) < BUSY_PACKETS && socket.connected) {
          const [n, m] = l.queue.shift()!;
          socket.emit(n, m as never);
        }
        if (l.queue.length && socket.connected) conn.once('drain', pump);
        else l.pumping = false;
      };
      conn.once('drain', pump);
    }
  }
}
