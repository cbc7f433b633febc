import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Device } from '@warden/contract';
import { LiveView } from '../components/LiveView.tsx';
import { applyDeviceUpdates, sortDevices } from '../lib/devices.ts';
import { hubPath } from '../api/client.ts';
import { useHubGet, useReloadOnUnknown } from '../state/fetch.ts';
import { useLiveBatch } from '../state/live.tsx';

const WALLS = [1, 4, 9] as const;
type Wall = (typeof WALLS)[number];

/** Cameras (issue 10): the list with online state and a wall of live views (1, 2×2, 3×3). */
export function CamerasPage() {
  const { t } = useTranslation();
  const [devices, setDevices] = useState<Device[]>([]);
  const fetched = useHubGet(hubPath('GET /api/devices', { query: { kind: 'camera' } }), (d) => setDevices(d.devices));
  const unknown = useReloadOnUnknown(fetched.reload);
  useLiveBatch('device', (updates) => {
    const cams = updates.filter((u) => devices.some((d) => d.id === u.id));
    unknown(applyDeviceUpdates(devices, cams).unknown);
    setDevices((cur) => applyDeviceUpdates(cur, cams).devices);
  });
  const cameras = useMemo(() => sortDevices(devices.filter((d) => d.kind === 'camera')), [devices]);

  const [wall, setWall] = useState<Wall>(4);
  const [tiles, setTiles] = useState<Array<string | null>>(() => Array<string | null>(9).fill(null));
  const open = (id: string) =>
    setTiles((cur) => {
      if (cur.slice(0, wall).includes(id)) return cur;
      const next = [...cur];
      const free = next.slice(0, wall).indexOf(null);
      next[free === -1 ? wall - 1 : free] = id;
      return next;
    });
  const close = (i: number) => setTiles((cur) => cur.map((c, j) => (j === i ? null : c)));
  const cols = Math.sqrt(wall);

  return (
    <section className="page" aria-labelledby="cameras-title">
      <div className="page-head">
        <h1 id="cameras-title">{t('cameras.title')}</h1>
        <div role="group" aria-label={t('cameras.layout')}>
          {WALLS.map((w) => (
            <button key={w} type="button" className={w === wall ? 'btn btn-primary' : 'btn'} aria-pressed={w === wall} data-testid={`wall-${w}`} onClick={() => setWall(w)}>
              {t(`cameras.wall${w}`)}
            </button>
          ))}
        </div>
        <span className="counts" data-testid="camera-counts">
          {t('cameras.counts', { online: cameras.filter((c) => c.online).length, total: cameras.length })}
        </span>
      </div>
      {fetched.error && (
        <p className="error" role="alert">
          {t('cameras.loadFailed', { message: fetched.error })}
        </p>
      )}
      <div className="cameras">
        <ul className="camera-list" data-testid="camera-list">
          {cameras.map((c) => (
            <li key={c.id}>
              <button type="button" className="btn camera-item" data-testid="camera-item" data-camera={c.id} data-online={String(c.online)} onClick={() => open(c.id)} title={t('cameras.open')}>
                <span className={`badge ${c.online ? 'badge-on' : 'badge-off'}`}>{c.online ? t('devices.online') : t('devices.offline')}</span> {c.name || c.id}
                <span className="sub muted">{[c.building, c.zone].filter(Boolean).join(' / ')}</span>
              </button>
            </li>
          ))}
          {!fetched.loading && cameras.length === 0 && <li className="empty">{t('cameras.empty')}</li>}
        </ul>
        <div className="camera-wall" data-testid="camera-wall" style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))` }}>
          {tiles.slice(0, wall).map((id, i) => (
            <div className="camera-tile" key={i} data-testid="camera-tile" data-camera={id ?? undefined}>
              {id ? (
                <LiveView camera={id} name={cameras.find((c) => c.id === id)?.name || id} onClose={() => close(i)} />
              ) : (
                <p className="muted camera-empty">{t('cameras.pick')}</p>
              )}
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
