import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import JSMpeg from '@cycjimmy/jsmpeg-player';
import { makeVideoSource, videoUrl, type VideoEnd } from '../lib/video.ts';
import { useSignedIn } from '../state/auth.tsx';

/** Roles that may watch live video (the hub's VIDEO_ROLES plus supervisor and admin, who hold security's rights). */
export function mayWatchVideo(roles: readonly string[]): boolean {
  return roles.some((r) => r === 'security' || r === 'supervisor' || r === 'admin');
}

type ViewState = { s: 'connecting' } | { s: 'playing' } | { s: 'ended'; end: VideoEnd; reason: string };

/** One camera's live video: JSMpeg on a canvas over the hub's relay WebSocket; closing or unmounting closes the socket. */
export function LiveView({ camera, name, onClose }: { camera: string; name: string; onClose(): void }) {
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
