import { useCallback, useEffect, useRef, useState } from 'react';
import type { GetRoute, HubPath, Reply } from '../api/client.ts';
import { useSignedIn } from './auth.tsx';
import { useLiveState } from './live.tsx';

export interface Fetched {
  loading: boolean;
  error: string | null;
  /** Fetches again, e.g. when a live message names something the page has not seen yet. */
  reload(): void;
}

/**
 * GETs `path` (built by `hubPath`, so the answer's type is the contract's) on mount, whenever it changes, and after every live (re)connection, so whatever happened while the
 * feed was down is picked up; `onData` decides how the answer merges with what live messages already brought.
 * A null path fetches nothing.
 */
export function useHubGet<K extends GetRoute>(path: HubPath<K> | null, onData: (data: Reply<K>) => void): Fetched {
  const { get } = useSignedIn();
  const { connects } = useLiveState();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [nonce, setNonce] = useState(0);
  const handler = useRef(onData);
  handler.current = onData;

  useEffect(() => {
    if (path === null) {
      setLoading(false);
      return;
    }
    const ac = new AbortController();
    get(path, { signal: ac.signal }).then(
      (data) => {
        setError(null);
        setLoading(false);
        handler.current(data);
      },
      (err: unknown) => {
        if (ac.signal.aborted) return;
        setLoading(false);
        setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => ac.abort();
  }, [get, path, connects, nonce]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { loading, error, reload };
}

/**
 * Returns `(ids) => void` that reloads when a live message names an id the page has not seen, once per id:
 * an id that stays unknown after the reload (e.g. a device missing from every inventory) must not cause a fetch storm.
 */
export function useReloadOnUnknown(reload: () => void): (unknownIds: readonly string[]) => void {
  const asked = useRef(new Set<string>());
  return useCallback(
    (ids) => {
      const fresh = ids.filter((id) => !asked.current.has(id));
      if (fresh.length === 0) return;
      for (const id of fresh) asked.current.add(id);
      reload();
    },
    [reload],
  );
}
