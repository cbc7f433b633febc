import type { LiveView } from '@warden/contract';
import { ApiError, call } from '../api/client.ts';
import { VIDEO_CLOSE } from '../api/values.ts';

/**
 * The WebSocket to open for a live view the hub granted (POST /api/cameras/:id/live): a relay node's absolute
 * ws(s):// URL, or the hub's own relay as a path on the console's origin; the signed ticket goes in the query
 * (a browser cannot set headers on a WebSocket). The console never builds a camera's URL itself.
 */
export function videoUrl(view: Pick<LiveView, 'url' | 'ticket'>, loc: { protocol: string; host: string } = location): string {
  const base = /^wss?:\/\//.test(view.url) ? view.url : `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${view.url}`;
  return `${base}?ticket=${encodeURIComponent(view.ticket)}`;
}

/** Asks the hub where and with which ticket to watch a camera (each view asks anew: a ticket opens one socket). */
export function requestLiveView(camera: string, token: string, signal?: AbortSignal): Promise<LiveView> {
  return call('POST /api/cameras/:id/live', { params: { id: camera } }, { token, signal });
}

/** A refused live-view request, as the end the view shows (same words as the relay's close codes). */
export function liveViewRefusal(err: unknown): VideoEnd {
  if (!(err instanceof ApiError)) return 'lost';
  return err.status === 401 ? 'unauthorized' : err.status === 403 ? 'forbidden' : err.status === 404 ? 'unknownCamera' : 'lost';
}

export type VideoEnd = 'unauthorized' | 'forbidden' | 'unknownCamera' | 'streamLimit' | 'upstream' | 'shutdown' | 'lost';

/** What a close code of the hub means, for the viewer's message. */
export function videoEnd(code: number): VideoEnd {
  for (const [name, c] of Object.entries(VIDEO_CLOSE)) if (c === code) return name as VideoEnd;
  return 'lost';
}

export interface VideoSourceHooks {
  onOpen(): void;
  onClose(end: VideoEnd, reason: string): void;
  /** The socket, so the view can close it itself when it unmounts. */
  onSocket?(ws: WebSocket): void;
}

/**
 * A JSMpeg source over the hub's WebSocket (JSMpeg's own WSSource hides the close code and reconnects blindly):
 * binary frames of MPEG-TS go to the demuxer; a close tells the view why (limit reached, no right, lost).
 */
export function makeVideoSource(hooks: VideoSourceHooks) {
  return class HubVideoSource {
    readonly streaming = true;
    established = false;
    completed = false;
    progress = 0;
    private socket: WebSocket | null = null;
    /** Set by destroy(): a start() after it (JSMpeg starts its source once its WASM decoder compiled, which may be after the view is gone) opens nothing. */
    private destroyed = false;
    private destination: { write(data: ArrayBuffer): void } | null = null;
    constructor(private readonly url: string) {}
    connect(destination: { write(data: ArrayBuffer): void }): void {
      this.destination = destination;
    }
    start(): void {
      // One socket per source, never one after destroy(): a leaked socket is a viewer the hub keeps streaming to.
      if (this.destroyed || this.socket) return;
      const ws = new WebSocket(this.url);
      this.socket = ws;
      hooks.onSocket?.(ws);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => hooks.onOpen();
      ws.onmessage = (ev: MessageEvent<ArrayBuffer>) => {
        this.established = true;
        this.progress = 1;
        this.destination?.write(ev.data);
      };
      ws.onclose = (ev) => {
        if (this.socket === ws) hooks.onClose(videoEnd(ev.code), ev.reason);
      };
    }
    resume(): void {
      // A live stream has nothing to fetch ahead.
    }
    destroy(): void {
      this.destroyed = true;
      const ws = this.socket;
      this.socket = null;
      ws?.close();
    }
  };
}
