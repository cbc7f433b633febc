import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import JSMpeg from '@cycjimmy/jsmpeg-player';
import { liveViewRefusal, makeVideoSource, requestLiveView, videoUrl, type VideoEnd } from '../lib/video.ts';
import { useSignedIn } from '../state/auth.tsx';

/** Roles that may watch live video (the hub's VIDEO_ROLES plus supervisor and admin, who hold security's rights). */
export function mayWatchVideo(roles: readonly string[]): boolean {
  return roles.some((r) => r === 'security' || r === 'supervisor' || r === 'admin');
}

type ViewState = { s: 'connecting' } | { s: 'playing' } | { s: 'ended'; end: VideoEnd; reason: string };

/**
 * One camera's live video: the hub grants a view (a ticket and the relay serving the camera: the hub's own or a relay
 * node), then JSMpeg plays that relay's WebSocket on a canvas; closing or unmounting closes the socket.
 */
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
    let player: { destroy(): void } | undefined;
    const play = (url: string, target: HTMLCanvasElement) =>
      new JSMpeg.Player(url, {
        canvas: target,
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
    // A fresh ticket for every view (a ticket opens one socket); an unmount before the answer plays nothing.
    const asking = new AbortController();
    requestLiveView(camera, token, asking.signal).then(
      (view) => {
        if (asking.signal.aborted || !canvas.current) return;
        player = play(videoUrl(view), canvas.current);
      },
      (err: unknown) => {
        if (asking.signal.aborted) return;
        setState({ s: 'ended', end: liveViewRefusal(err), reason: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => {
      asking.abort();
      // Closing the socket is what stops the relay's ffmpeg (last viewer gone): done first, whatever the player does.
      socket?.close();
      try {
        player?.destroy();
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
