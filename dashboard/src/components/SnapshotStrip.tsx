import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Snapshot } from '@warden/contract';
import { hubPath } from '../api/client.ts';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet } from '../state/fetch.ts';
import { useLiveBatch } from '../state/live.tsx';

/**
 * The snapshots the hub took for an alarm (its linkage's cameras) or a face event, as thumbnails that open full
 * size. Images are fetched with the login token (an <img src> cannot send it) and shown from blob URLs. A snapshot
 * lands a moment after the alarm: the list is read again on the alarm's linkage messages and every 5 s while empty.
 */
export function SnapshotStrip({ alarm, event }: { alarm?: string; event?: string }) {
  const { t } = useTranslation();
  const [snaps, setSnaps] = useState<Snapshot[]>([]);
  const fetched = useHubGet(hubPath('GET /api/snapshots', { query: { ...(alarm ? { alarm } : {}), ...(event ? { event } : {}) } }), (d) => setSnaps(d.snapshots));
  useLiveBatch('linkage', (msgs) => {
    if (alarm && msgs.some((m) => m.alarmId === alarm)) setTimeout(fetched.reload, 1500);
  });
  useEffect(() => {
    if (snaps.length > 0) return;
    const timer = setInterval(fetched.reload, 5000);
    return () => clearInterval(timer);
  }, [snaps.length, fetched.reload]);

  if (fetched.error) return <p className="error">{t('snapshots.loadFailed', { message: fetched.error })}</p>;
  if (snaps.length === 0) return <p className="muted" data-testid="snapshots-none">{t('snapshots.none')}</p>;
  return (
    <ul className="snapshots" data-testid="snapshots">
      {snaps.map((s) => (
        <li key={s.id}>
          <SnapshotImage snap={s} />
        </li>
      ))}
    </ul>
  );
}

function SnapshotImage({ snap }: { snap: Snapshot }) {
  const { token } = useSignedIn();
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const ctrl = new AbortController();
    let made: string | null = null;
    fetch(hubPath('GET /api/snapshots/:id', { params: { id: snap.id } }), { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal })
      .then(async (r) => {
        if (!r.ok) throw new Error(String(r.status));
        made = URL.createObjectURL(await r.blob());
        setUrl(made);
      })
      .catch(() => {
        if (!ctrl.signal.aborted) setFailed(true);
      });
    return () => {
      ctrl.abort();
      if (made) URL.revokeObjectURL(made);
    };
  }, [snap.id, token]);
  const caption = `${snap.camera} · ${new Date(snap.ts).toLocaleString()}`;
  return (
    <figure className="snapshot" data-testid="snapshot" data-camera={snap.camera} data-loaded={url ? 'true' : 'false'}>
      {url ? (
        <a href={url} target="_blank" rel="noreferrer">
          <img src={url} alt={caption} width={160} />
        </a>
      ) : (
        <span className="muted">{failed ? '×' : '…'}</span>
      )}
      <figcaption className="muted">{caption}</figcaption>
    </figure>
  );
}
