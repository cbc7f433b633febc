import type { Socket } from 'socket.io';
import type { Counter } from 'prom-client';
import { LIVE_MAX_HELD, LIVE_SLOW_QUEUED } from '@warden/contract';

/** Live messages that never wait: alarms, linkage, availability, and the safety events themselves. */
export function isPriorityLive(name: string, msg: unknown): boolean {
  if (name !== 'event' && name !== 'attendance') return true;
  if (name === 'attendance') return false;
  const type = (msg as { type?: unknown }).type;
  return typeof type === 'string' && (type.startsWith('fire.') || type.startsWith('intrusion.') || type.startsWith('emergency.') || type === 'door.forced' || type.endsWith('.tamper'));
}

/** Packets engine.io may hold for a socket before bulk messages wait in the feed's own queue. */
const BUSY_PACKETS = 32;

/** engine.io's packets held for a socket (written once its transport drains). */
export function heldPackets(socket: Socket): number {
  return (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0;
}

/**
 * Emits a message that is never dropped (alarms, safety events, linkage, availability), unless the connection already
 * holds LIVE_MAX_HELD packets it does not read: then the connection is closed (counted) rather than grown without
 * bound; the client reconnects and reloads what it missed over REST. False when closed.
 */
export function emitHeld(socket: Socket, name: string, msg: unknown, shed: Counter<'reason'>): boolean {
  if (heldPackets(socket) >= LIVE_MAX_HELD) {
    shed.inc({ reason: 'closed_slow' });
    // Discarding what it holds (engine.io would otherwise wait for a drain that never comes) and dropping the TCP
    // connection now (a WebSocket's closing handshake would wait 30 s for the peer that does not read).
    const ws = (socket.conn as unknown as { transport?: { socket?: { terminate?: () => void } } }).transport?.socket;
    socket.conn.close(true);
    ws?.terminate?.();
    return false;
  }
  socket.emit(name, msg as never);
  return true;
}

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
  /**
   * `slow(socket, waiting)`: the socket has more than LIVE_SLOW_QUEUED routine messages waiting; the feed switches it
   * to coalesced batches (feed.ts) and takes the waiting messages (the lane forgets them).
   */
  constructor(
    private readonly shed: Counter<'reason'>,
    private readonly slow: (socket: Socket, waiting: Array<[string, unknown]>) => void,
  ) {}

  send(socket: Socket, name: string, msg: unknown): void {
    if (isPriorityLive(name, msg)) return void emitHeld(socket, name, msg, this.shed);
    const conn = socket.conn as unknown as { once(ev: 'drain', fn: () => void): void };
    let lane = this.lanes.get(socket);
    if (!lane?.queue.length && heldPackets(socket) < BUSY_PACKETS) return void socket.emit(name, msg as never);
    if (!lane) this.lanes.set(socket, (lane = { queue: [], pumping: false }));
    lane.queue.push([name, msg]);
    if (lane.queue.length > LIVE_SLOW_QUEUED) {
      const waiting = lane.queue;
      lane.queue = [];
      this.lanes.delete(socket);
      return this.slow(socket, waiting);
    }
    if (!lane.pumping) {
      lane.pumping = true;
      const l = lane;
      const pump = () => {
        while (l.queue.length && heldPackets(socket) < BUSY_PACKETS && socket.connected) {
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
