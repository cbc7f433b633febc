import { useEffect, useState } from 'react';

/** The current time, refreshed every `everyMs`, so "5 s ago" labels keep ageing without new data. */
export function useNow(everyMs = 5000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}
