import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import JSMpeg from '@cycjimmy/jsmpeg-player';
import type { Device } from '@warden/contract';
import { applyDeviceUpdates, sortDevices } from '../lib/devices.ts';
import { makeVideoSource, videoUrl, type VideoEnd } from '../lib/video.ts';
import { hubPath } from '../api/client.ts';
import { useSignedIn } from '../state/auth.tsx';
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

type ViewState = { s: 'connecting' } | { s: 'playing' } | { s: 'ended'; end: VideoEnd; reason: string };

function LiveView({ camera, name, onClose }: { camera: string; name: string; onClose(): void }) {
  const { t } = useTranslation();
  const { token } = useSignedIn();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<ViewState>({ s: 'connecting' });
  const [frames, setFrames] = useState(0);

  useEffect(() => {
    if (!canvas.current) return;
    setState({ s: 'connecting' });
    let decoded = 0;
    let socket: WebSocket | undefined;
    const player = new JSMpeg.Player(videoUrl(camera, token), {
      canvas: canvas.current,
      audio: false,
      autoplay: true,
      // Keeps the last frame readable (the browser test compares pixels).
      preserveDrawingBuffer: true,
      videoBufferSize: 1024 * 1024,
      source: makeVideoSource({
        onOpen: () => setState((cur) => (cur.s === 'ended' ? cur : { s: 'connecting' })),
        onClose: (end, reason) => setState({ s: 'ended', end, reason }),
        onSocket: (ws) => (socket = ws),
      }),
      onVideoDecode: () => {
        decoded++;
        if (decoded === 1 || decoded % 25 === 0) setFrames(decoded);
        if (decoded === 1) setState({ s: 'playing' });
      },
    });
    return () => {
      // Closing the socket is what stops the hub's ffmpeg (last viewer gone): done first, whatever the player does.
      socket?.close();
      try {
        player.destroy();
      } catch (err) {
        console.error('live view: player.destroy failed', err);
      }
    };
  }, [camera, token]);

  return (
    <figure className="live-view" data-testid="live-view" data-camera={camera} data-state={state.s} data-frames={frames}>
      <canvas ref={canvas} data-testid="live-canvas" />
      <figcaption>
        <span>{name}</span>
        {state.s === 'connecting' && <span className="muted"> {t('cameras.connecting')}</span>}
        {state.s === 'ended' && (
          <span className="error" role="alert" data-testid="live-ended" data-end={state.end}>
            {' '}
            {t(`cameras.ended.${state.end}`)}
            {state.end === 'streamLimit' && state.reason ? ` (${state.reason})` : ''}
          </span>
        )}
        <button type="button" className="btn" data-testid="live-close" onClick={onClose} aria-label={t('cameras.close')}>
          ×
        </button>
      </figcaption>
    </figure>
  );
}
