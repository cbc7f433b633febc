import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { io } from 'socket.io-client';
import type { LiveAuth, LiveChannel, LiveMessages } from '@warden/contract';
import { every } from '../api/values.ts';

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'offline';

type Listener = (msg: never) => void;

interface LiveContextValue {
  state: LiveState;
  /** Increments on every (re)connection: pages refetch then, to fill what they missed while disconnected. */
  connects: number;
  subscribe<C extends LiveChannel>(channel: C, fn: (msg: LiveMessages[C]) => void): () => void;
}

const LiveContext = createContext<LiveContextValue | null>(null);

interface SkippedValue {
  /** Routine events the hub stored but did not send live since the last reload (storms: the feed is coalesced). */
  skipped: number;
  clear(): void;
}

// Its own context: it changes every batch during a storm, and only the event list shows it.
const SkippedContext = createContext<SkippedValue>({ skipped: 0, clear: () => {} });

const CHANNELS = every<LiveChannel>()(['event', 'events', 'device', 'gateway', 'alarm', 'linkage', 'attendance', 'feed']);

/**
 * One socket.io connection for the whole signed-in console. Listeners live here rather than on the socket, so
 * pages can subscribe before the socket exists (child effects run before their parent's) and across reconnects.
 * The console takes the coalesced feed (contract LiveAuth `feed: 'coalesced'`): routine events come as `events`
 * batches, which are handed to `event` subscribers one by one (pages need not know), and their `skipped` counts add
 * up in useLiveSkipped() so the event list can offer a reload; safety events and alarms still come at once.
 */
export function LiveProvider({ token, onUnauthorized, children }: { token: string; onUnauthorized: () => void; children: ReactNode }) {
  const [state, setState] = useState<LiveState>('connecting');
  const [connects, setConnects] = useState(0);
  const [skipped, setSkipped] = useState(0);
  const listeners = useRef(new Map<LiveChannel, Set<Listener>>());
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  useEffect(() => {
    const auth: LiveAuth = { token, feed: 'coalesced' };
    const socket = io({ auth });
    setState('connecting');
    socket.on('connect', () => {
      setState('live');
      setConnects((n) => n + 1);
      // Pages refetch on every connection: what was skipped before is in their fresh pages.
      setSkipped(0);
    });
    socket.on('disconnect', () => {
      // The client retries by itself unless the server closed the connection on purpose.
      setState(socket.active ? 'reconnecting' : 'offline');
    });
    socket.on('connect_error', (err) => {
      if (err.message === 'unauthorized') {
        unauthorized.current();
        return;
      }
      setState(socket.active ? 'reconnecting' : 'offline');
    });
    const deliver = (channel: LiveChannel, msg: unknown) => {
      for (const fn of listeners.current.get(channel) ?? []) {
        try {
          fn(msg as never);
        } catch (err) {
          // One page's bug must not stop the feed for the others.
          console.error(`live ${channel} listener failed`, err);
        }
      }
    };
    for (const channel of CHANNELS) {
      socket.on(channel, (msg: unknown) => {
        deliver(channel, msg);
        if (channel !== 'events') return;
        const batch = msg as LiveMessages['events'];
        for (const e of batch.events) deliver('event', e);
        if (batch.skipped > 0) setSkipped((n) => n + batch.skipped);
      });
    }
    return () => {
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [token]);

  // Stable, so that subscribers do not resubscribe (and drop buffered messages) whenever the state changes.
  const subscribe = useCallback<LiveContextValue['subscribe']>((channel, fn) => {
    let set = listeners.current.get(channel);
    if (!set) listeners.current.set(channel, (set = new Set()));
    const l = fn as Listener;
    set.add(l);
    return () => set.delete(l);
  }, []);
  const value = useMemo<LiveContextValue>(() => ({ state, connects, subscribe }), [state, connects, subscribe]);
  const clear = useCallback(() => setSkipped(0), []);
  const skippedValue = useMemo<SkippedValue>(() => ({ skipped, clear }), [skipped, clear]);
  return (
    <LiveContext.Provider value={value}>
      <SkippedContext.Provider value={skippedValue}>{children}</SkippedContext.Provider>
    </LiveContext.Provider>
  );
}

/** Routine events not received live since the last (re)connection or clear(): the event list offers to reload them. */
export function useLiveSkipped(): SkippedValue {
  return useContext(SkippedContext);
}

function useLiveContext(): LiveContextValue {
  const v = useContext(LiveContext);
  if (!v) throw new Error('live hooks need a LiveProvider');
  return v;
}

export function useLiveState(): { state: LiveState; connects: number } {
  const { state, connects } = useLiveContext();
  return { state, connects };
}

/**
 * Calls `onBatch` with the messages of `channel`, grouped over `windowMs`, so a burst of hundreds of events
 * renders a handful of times instead of hundreds.
 */
export function useLiveBatch<C extends LiveChannel>(channel: C, onBatch: (msgs: LiveMessages[C][]) => void, windowMs = 100): void {
  const { subscribe } = useLiveContext();
  const handler = useRef(onBatch);
  handler.current = onBatch;
  useEffect(() => {
    let buffer: LiveMessages[C][] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      const batch = buffer;
      buffer = [];
      handler.current(batch);
    };
    const unsubscribe = subscribe(channel, (msg) => {
      buffer.push(msg);
      timer ??= setTimeout(flush, windowMs);
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [channel, subscribe, windowMs]);
}
