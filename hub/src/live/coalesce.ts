import type { Counter } from 'prom-client';
import { LIVE_BATCH_MAX, type LiveMessages } from '@warden/contract';
import { isPriorityLive } from './lanes.ts';

/** One coalesced client as the coalescer sees it (feed.ts wraps a socket.io socket). */
export interface LiveSink {
  readonly connected: boolean;
  emit(name: string, msg: unknown): void;
  /** Is the connection still writing earlier frames (engine.io's write buffer, the WebSocket's buffered bytes)? */
  busy(): boolean;
}

interface SinkState {
  /** Routine events waiting for the next batch, oldest first, at most `max` (older ones are counted in `skipped`). */
  events: Array<LiveMessages['event']>;
  skipped: number;
  /** Alarm updates waiting for the next flush: the latest state of each alarm id. */
  alarms: Map<string, LiveMessages['alarm']>;
  /** Alarm ids sent since the previous flush: a further update within the window waits (merged). */
  recent: Set<string>;
}

export type CoalescedKind = 'batch' | 'batched_event' | 'skipped_event' | 'merged_alarm' | 'held_busy';

/**
 * The coalesced live feed (LiveFeedMode `coalesced`, the console): per client, routine events are collected and sent
 * as one `events` batch per flush (the feed flushes every LIVE_BATCH_MS) with at most `max` events, the newest; the
 * older ones and every event held back while the connection is still busy writing are counted in the batch's
 * `skipped`, never dropped silently. An alarm's first message in a window goes at once (a new alarm is never
 * delayed); further updates of the same alarm before the next flush are merged into its latest state. Everything
 * else (safety events, linkage, availability, attendance) goes at once. So a storm reaches a console as a few
 * renderable messages a second, and a priority frame is never behind more than one batch in the connection.
 * The clock is whoever calls flush() (feed.ts: an interval; tests: by hand).
 */
export class LiveCoalescer {
  private readonly sinks = new Map<LiveSink, SinkState>();

  constructor(
    private readonly counter: Counter<'kind'>,
    private readonly max = LIVE_BATCH_MAX,
  ) {}

  add(sink: LiveSink): void {
    this.sinks.set(sink, { events: [], skipped: 0, alarms: new Map(), recent: new Set() });
  }

  remove(sink: LiveSink): void {
    this.sinks.delete(sink);
  }

  send(sink: LiveSink, name: string, msg: unknown): void {
    const st = this.sinks.get(sink);
    if (!st) return void sink.emit(name, msg);
    if (name === 'event' && !isPriorityLive(name, msg)) {
      st.events.push(msg as LiveMessages['event']);
      if (st.events.length > this.max) {
        st.events.shift();
        st.skipped++;
        this.counter.inc({ kind: 'skipped_event' });
      }
      return;
    }
    if (name === 'alarm') {
      const a = msg as LiveMessages['alarm'];
      if (st.recent.has(a.id)) {
        if (st.alarms.has(a.id)) this.counter.inc({ kind: 'merged_alarm' });
        st.alarms.set(a.id, a);
        return;
      }
      st.recent.add(a.id);
    }
    sink.emit(name, msg);
  }

  /** Sends each client its waiting alarm updates and (unless its connection is still busy) its batch of events. */
  flush(): void {
    for (const [sink, st] of this.sinks) {
      if (!sink.connected) continue;
      // Ids sent in this flush stay "recent" for one more window; the others may go at once again.
      const recent = new Set<string>();
      for (const [id, a] of st.alarms) {
        sink.emit('alarm', a);
        recent.add(id);
      }
      st.alarms.clear();
      st.recent = recent;
      if (!st.events.length && !st.skipped) continue;
      if (sink.busy()) {
        this.counter.inc({ kind: 'held_busy' });
        continue;
      }
      const batch: LiveMessages['events'] = { events: st.events, skipped: st.skipped };
      st.events = [];
      st.skipped = 0;
      sink.emit('events', batch);
      this.counter.inc({ kind: 'batch' });
      this.counter.inc({ kind: 'batched_event' }, batch.events.length);
    }
  }
}
