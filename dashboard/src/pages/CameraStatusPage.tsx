import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { CameraState, CameraStatus } from '@warden/contract';
import { hubPath } from '../api/client.ts';
import { ago, fullTime } from '../lib/format.ts';
import { useLabels } from '../lib/labels.ts';
import { useNow } from '../lib/now.ts';
import { useHubGet } from '../state/fetch.ts';

const PAGE = 100;

/**
 * Camera status (issue 10): every camera with its online state, last good probe, stream, clock drift and last
 * event, from GET /api/cameras/status. Filtering and paging happen at the hub (100 rows a page), so 1,311 cameras
 * cost the browser one page of rows; refreshed every 15 s.
 */
export function CameraStatusPage() {
  const { t } = useTranslation();
  const labels = useLabels();
  const now = useNow();
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [building, setBuilding] = useState('');
  const [state, setState] = useState<CameraState | ''>('');
  const [drifting, setDrifting] = useState(false);
  const [offset, setOffset] = useState(0);
  const [data, setData] = useState<{ cameras: CameraStatus[]; total: number; counts: Record<string, number>; buildings: string[] } | null>(null);

  // Typing settles for 300 ms before the hub is asked.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(q.trim()), 300);
    return () => clearTimeout(timer);
  }, [q]);
  useEffect(() => setOffset(0), [query, building, state, drifting]);

  const fetched = useHubGet(
    hubPath('GET /api/cameras/status', {
      query: { ...(query ? { q: query } : {}), ...(building ? { building } : {}), ...(state ? { state } : {}), ...(drifting ? { minDriftS: 5 } : {}), offset, limit: PAGE },
    }),
    setData,
  );
  const { reload } = fetched;
  useEffect(() => {
    const timer = setInterval(reload, 15_000);
    return () => clearInterval(timer);
  }, [reload]);

  const counts = data?.counts ?? { online: 0, offline: 0, unknown: 0, tampered: 0 };
  const total = data?.total ?? 0;
  const stateLabel = (s: CameraState) => t(`cameraStatus.state.${s}`);

  return (
    <section className="page" aria-labelledby="camera-status-title">
      <div className="page-head">
        <h1 id="camera-status-title">{t('cameraStatus.title')}</h1>
        <input type="search" aria-label={t('cameraStatus.search')} placeholder={t('cameraStatus.search')} value={q} onChange={(e) => setQ(e.target.value)} data-testid="camera-search" />
        <select aria-label={t('cameraStatus.building')} value={building} onChange={(e) => setBuilding(e.target.value)} data-testid="camera-building">
          <option value="">{t('cameraStatus.allBuildings')}</option>
          {(data?.buildings ?? []).map((b) => (
            <option key={b} value={b}>
              {b}
            </option>
          ))}
        </select>
        <select aria-label={t('cameraStatus.stateFilter')} value={state} onChange={(e) => setState(e.target.value as CameraState | '')} data-testid="camera-state">
          <option value="">{t('cameraStatus.allStates')}</option>
          {(['online', 'offline', 'unknown'] as const).map((s) => (
            <option key={s} value={s}>
              {stateLabel(s)}
            </option>
          ))}
        </select>
        <label>
          <input type="checkbox" checked={drifting} onChange={(e) => setDrifting(e.target.checked)} data-testid="camera-drifting" /> {t('cameraStatus.drifting')}
        </label>
        <span className="counts" data-testid="camera-counts" data-online={counts.online} data-offline={counts.offline} data-tampered={counts.tampered}>
          {t('cameraStatus.counts', counts)}
        </span>
      </div>
      {fetched.error && (
        <p className="error" role="alert">
          {t('cameraStatus.loadFailed', { message: fetched.error })}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="camera-status-table" data-total={total}>
          <thead>
            <tr>
              <th>{t('cameraStatus.status')}</th>
              <th>{t('cameraStatus.name')}</th>
              <th className="hide-narrow">{t('cameraStatus.location')}</th>
              <th>{t('cameraStatus.lastGoodProbe')}</th>
              <th>{t('cameraStatus.stream')}</th>
              <th>{t('cameraStatus.drift')}</th>
              <th className="hide-narrow">{t('cameraStatus.lastEvent')}</th>
            </tr>
          </thead>
          <tbody>
            {(data?.cameras ?? []).map((c) => (
              <tr key={c.id} data-testid="camera-status-row" data-camera={c.id} data-state={c.state}>
                <td>
                  <span className={`badge ${c.state === 'online' ? 'badge-on' : c.state === 'offline' ? 'badge-off' : 'badge-stale'}`}>{stateLabel(c.state)}</span>
                  {c.tampered && <span className="badge badge-off">{t('cameraStatus.tampered')}</span>}
                </td>
                <td>
                  {c.name || c.id} {c.name && <span className="sub muted mono">{c.id}</span>}
                </td>
                <td className="hide-narrow">{[c.building, c.zone].filter(Boolean).join(' / ')}</td>
                <td title={c.lastGoodProbe ? fullTime(c.lastGoodProbe) : undefined}>{ago(c.lastGoodProbe, t, now)}</td>
                <td className="mono">{c.width && c.height ? `${c.width}×${c.height}${c.fps ? ` @${c.fps}` : ''}${c.codec ? ` ${c.codec}` : ''}` : '—'}</td>
                <td className={c.driftS !== null && Math.abs(c.driftS) >= 5 ? 'mono warn' : 'mono'} data-testid="camera-drift">
                  {c.driftS === null ? '—' : `${c.driftS > 0 ? '+' : ''}${c.driftS} s`}
                </td>
                <td className="hide-narrow" title={c.lastEvent ? fullTime(c.lastEvent.ts) : undefined}>
                  {c.lastEvent ? `${labels.eventType(c.lastEvent.type)}${c.lastEvent.state === undefined ? '' : c.lastEvent.state ? ' ▲' : ' ▼'} · ${ago(c.lastEvent.ts, t, now)}` : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!fetched.loading && total === 0 && <p className="empty">{t('cameraStatus.empty')}</p>}
        {fetched.loading && !data && <p className="empty">{t('common.loading')}</p>}
      </div>
      {total > PAGE && (
        <div className="pager" data-testid="camera-pager">
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            {t('cameraStatus.prev')}
          </button>
          <span>{t('cameraStatus.range', { from: offset + 1, to: Math.min(total, offset + PAGE), total })}</span>
          <button type="button" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)} data-testid="camera-next">
            {t('cameraStatus.next')}
          </button>
        </div>
      )}
    </section>
  );
}
