import { useEffect, useState } from 'react';

/** `#/devices` -> `devices`. Hash routes need nothing from the hub beyond serving index.html at `/`. */
export function pageFromHash(hash: string): string {
  return hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
}

export function useHashPage(): string {
  const [page, setPage] = useState(() => pageFromHash(location.hash));
  useEffect(() => {
    const onChange = () => setPage(pageFromHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return page;
}

export function replaceHash(page: string): void {
  history.replaceState(null, '', `#/${page}`);
  dispatchEvent(new HashChangeEvent('hashchange'));
}
