import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import type { EventsPage, HubEvent } from '@warden/contract';
import { mergeEvents } from '../lib/events.ts';
import { useHubGet } from './fetch.ts';
import { useLiveBatch, useLiveSkipped } from './live.tsx';
import { hubPath } from '../api/client.ts';

export interface EventFeed {
  /** Newest first, capped. */
  events: HubEvent[];
  loading: boolean;
  error: string | null;
  /** Events the hub stored that did not come live (a storm is coalesced); `reload()` fetches the newest page again. */
  skipped: number;
  reload(): void;
}

const FeedContext = createContext<EventFeed | null>(null);

/** How many recent events to load on sign-in and after every reconnection. */
const INITIAL_PAGE = 100;

/**
 * Collects events for the whole signed-in session, not just while the events page is open, so an operator who
 * glances at another page and comes back has not lost what arrived meanwhile. Disabled for roles without the page.
 */
export function EventFeedProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const [events, setEvents] = useState<HubEvent[]>([]);
  const merge = useCallback((incoming: HubEvent[]) => setEvents((cur) => mergeEvents(cur, incoming)), []);
  const fetched = useHubGet(enabled ? hubPath('GET /api/events', { query: { limit: INITIAL_PAGE } }) : null, (page) => merge(page.events));
  useLiveBatch('event', enabled ? merge : ignore);
  const { skipped, clear } = useLiveSkipped();
  const refetch = fetched.reload;
  const reload = useCallback(() => {
    clear();
    refetch();
  }, [clear, refetch]);
  const value = useMemo(() => ({ events, loading: fetched.loading, error: fetched.error, skipped, reload }), [events, fetched.loading, fetched.error, skipped, reload]);
  return <FeedContext.Provider value={value}>{children}</FeedContext.Provider>;
}

function ignore(): void {}

export function useEventFeed(): EventFeed {
  const v = useContext(FeedContext);
  if (!v) throw new Error('useEventFeed outside EventFeedProvider');
  return v;
}
