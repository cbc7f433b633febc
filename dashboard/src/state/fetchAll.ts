import { useEffect, useState } from 'react';
import type { GetRoute, HubPath, Reply } from '../api/client.ts';
import { useSignedIn } from './auth.tsx';
import { useLiveState } from './live.tsx';

export interface FetchedAll<T> {
  data: T[] | null;
  loading: boolean;
  error: string | null;
}

/**
 * GETs every path (at most `concurrency` at a time), again whenever the list changes and after every live
 * (re)connection; `data` keeps the order of `paths`. Null paths fetch nothing.
 */
export function useHubGetAll<K extends GetRoute>(paths: readonly HubPath<K>[] | null, concurrency = 4): FetchedAll<Reply<K>> {
  const { get } = useSignedIn();
  const { connects } = useLiveState();
  const [state, setState] = useState<FetchedAll<Reply<K>>>({ data: null, loading: paths !== null, error: null });
  const key = paths ? paths.join('\n') : null;

  useEffect(() => {
    if (key === null) return;
    const list = key === '' ? [] : key.split('\n');
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    getAll(list as HubPath<K>[], (p) => get<K>(p, { signal: ac.signal }), concurrency).then(
      (data) => setState({ data, loading: false, error: null }),
      (err: unknown) => {
        if (ac.signal.aborted) return;
        setState({ data: null, loading: false, error: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => ac.abort();
  }, [get, key, connects, concurrency]);

  return state;
}

/** Runs `get` over the paths with a bounded number in flight; the first failure fails the whole list. */
export async function getAll<T>(paths: readonly string[], get: (path: string) => Promise<T>, concurrency: number): Promise<T[]> {
  const out = new Array<T>(paths.length);
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      out[i] = await get(paths[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return out;
}
