import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { VIDEO_CLOSE, VIDEO_PATH } from '@warden/contract';
import type { CameraSourceConfig, StreamSettings } from './config.ts';

/** MPEG-TS packet size: frames carry whole packets, so a viewer joining mid-stream starts on a packet boundary. */
const TS_PACKET = 188;
/** A viewer this far behind (bytes queued in its socket) skips chunks instead of growing the hub's memory. */
const MAX_BUFFERED = 4 * 1024 * 1024;

export type VideoAccess =
  | { ok: true; viewer: string }
  /** `refusal`: the counter label (default: named after the code, VIDEO_REFUSALS). */
  | { ok: false; code: number; reason: string; refusal?: string };

export interface VideoRelayDeps {
  config: StreamSettings;
  /**
   * The request's query (`token=` login token or `ticket=` signed view ticket) → the decision for this camera (on the
   * hub: session valid, role may view cameras, camera in the user's scope; on a relay node: the hub's ticket).
   */
  authorize(query: URLSearchParams, cameraId: string): Promise<VideoAccess>;
  log: Logger;
  /** Refusals by reason, for the metrics/log (bad input gets a counter). */
  onRefused?(reason: string): void;
  /** The close reason viewers get when the relay stops (default: "hub stopping"). */
  stoppingReason?: string;
  /** ffmpeg ended while viewers watched; `closed`: the third failure in a row without data, viewers closed with 4502. */
  onUpstreamFailure?(closed: boolean): void;
}

export const VIDEO_REFUSALS = ['unauthorized', 'forbidden', 'unknown_camera', 'stream_limit'] as const;
export type VideoRefusal = (typeof VIDEO_REFUSALS)[number];
/** Pulls in a row that end before any byte arrived after which the viewers are told (4502) instead of waiting on. */
const UPSTREAM_TRIES = 3;

interface Stream {
  camera: string;
  viewers: Set<WebSocket>;
  ffmpeg: ChildProcess | null;
  /** Bytes of a partial TS packet carried to the next chunk. */
  rest: Buffer;
  restarts: number;
  /** Runs in a row that ended without a byte of video. */
  failures: number;
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

/** The ffmpeg command line for one camera: input options before `-i`, MPEG-1 in MPEG-TS on stdout, no audio. */
export function ffmpegArgs(src: CameraSourceConfig, c: StreamSettings): string[] {
  const url = sourceUrl(src);
  // -timeout: RTSP socket timeout, HTTP read/write timeout (both in microseconds).
  const input = url.startsWith('rtsp') ? ['-rtsp_transport', src.transport ?? c.transport, '-timeout', '10000000'] : ['-timeout', '10000000'];
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    ...input,
    '-i', url,
    '-an', '-f', 'mpegts', '-codec:v', 'mpeg1video', '-s', `${c.width}x${c.height}`, '-r', String(c.fps), '-b:v', c.bitrate, '-bf', '0',
    '-',
  ];
}

function sourceUrl(src: CameraSourceConfig): string {
  if (!src.url) throw new Error('camera has no stream url');
  if (!src.username) return src.url;
  const u = new URL(src.url);
  u.username = src.username;
  u.password = src.password ?? '';
  return u.toString();
}

/**
 * Live video relay: a WebSocket at `/video/{camera}?token=…` on the hub's HTTP server. The first viewer of a camera
 * starts one ffmpeg pulling its RTSP stream and transcoding to MPEG-1/MPEG-TS; every viewer of that camera gets the
 * same bytes as binary frames (the JSMpeg stream format); when the last viewer leaves ffmpeg is stopped (SIGTERM,
 * SIGKILL after 2 s). ffmpeg ending while viewers remain (camera dropped, network) is restarted with back-off.
 * At most `maxStreams` cameras stream at once; a viewer of one more is closed with VIDEO_CLOSE.streamLimit.
 */
export class VideoRelay {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  private readonly streams = new Map<string, Stream>();
  private closing = false;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!isVideoRequest(req.url)) return;
    void this.upgrade(req, socket, head);
  };

  constructor(
    private readonly http: HttpServer,
    private readonly d: VideoRelayDeps,
  ) {
    http.on('upgrade', this.onUpgrade);
  }

  /** Cameras streaming now, with their viewer counts. */
  active(): Array<{ camera: string; viewers: number; pid: number | undefined }> {
    return [...this.streams.values()].map((s) => ({ camera: s.camera, viewers: s.viewers.size, pid: s.ffmpeg?.pid }));
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://hub');
    const camera = decodeURIComponent(url.pathname.slice(VIDEO_PATH.length + 1));
    let access: VideoAccess;
    try {
      access = await this.d.authorize(url.searchParams, camera);
      if (access.ok && !this.d.config.cameras[camera]?.url) access = { ok: false, code: VIDEO_CLOSE.unknownCamera, reason: `no live video source for camera ${camera}` };
    } catch (err) {
      this.d.log.error({ err }, 'video: authorisation failed');
      socket.destroy();
      return;
    }
    if (this.closing || socket.destroyed) return void socket.destroy();
    // Refusals are sent as close codes on an opened socket: a browser sees a WebSocket close reason, never an HTTP status.
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (!access.ok) return this.refuse(ws, access.code, access.reason, access.refusal);
      const stream = this.streams.get(camera);
      if (!stream && this.streams.size >= this.d.config.maxStreams) {
        return this.refuse(ws, VIDEO_CLOSE.streamLimit, `live stream limit reached: ${this.d.config.maxStreams} cameras are streaming; close another view first`);
      }
      this.join(stream ?? this.start(camera), ws, access.viewer);
    });
  }

  private refuse(ws: WebSocket, code: number, reason: string, refusal?: string): void {
    const name = refusal ?? (code === VIDEO_CLOSE.unauthorized ? 'unauthorized' : code === VIDEO_CLOSE.forbidden ? 'forbidden' : code === VIDEO_CLOSE.streamLimit ? 'stream_limit' : 'unknown_camera');
    this.d.onRefused?.(name);
    this.d.log.info({ code, reason, refusal: name }, 'video: viewer refused');
    ws.close(code, reason.slice(0, 120));
  }

  private join(stream: Stream, ws: WebSocket, viewer: string): void {
    stream.viewers.add(ws);
    this.d.log.info({ camera: stream.camera, user: viewer, viewers: stream.viewers.size }, 'video: viewer joined');
    // Viewers send nothing; anything they do send is ignored (maxPayload bounds it).
    ws.on('error', () => {
      ws.terminate();
      this.leave(stream, ws);
    });
    ws.once('close', () => this.leave(stream, ws));
  }

  /**
   * A viewer is gone (idempotent): its `close` event, an error, or — seen first in forward() — its socket no longer
   * OPEN (a close frame received: `close` itself comes only once the closing handshake and TCP end are done, which
   * may wait behind megabytes of queued video or ws' 30 s close timeout). The last one leaving stops ffmpeg.
   */
  private leave(stream: Stream, ws: WebSocket): void {
    if (!stream.viewers.delete(ws)) return;
    this.d.log.info({ camera: stream.camera, viewers: stream.viewers.size }, 'video: viewer left');
    if (stream.viewers.size === 0) void this.stopStream(stream);
  }

  private start(camera: string): Stream {
    const stream: Stream = { camera, viewers: new Set(), ffmpeg: null, rest: Buffer.alloc(0), restarts: 0, failures: 0, timer: undefined, stopped: false };
    this.streams.set(camera, stream);
    this.spawn(stream);
    return stream;
  }

  private spawn(stream: Stream): void {
    if (stream.stopped) return;
    const src = this.d.config.cameras[stream.camera]!;
    const child = spawn(this.d.config.ffmpeg, ffmpegArgs(src, this.d.config), { stdio: ['ignore', 'pipe', 'pipe'] });
    stream.ffmpeg = child;
    stream.rest = Buffer.alloc(0);
    const started = Date.now();
    let gotData = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      gotData = true;
      stream.failures = 0;
      this.forward(stream, chunk);
    });
    let errors = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      errors = (errors + d).slice(-2000);
    });
    child.on('error', (err) => this.d.log.error({ err, camera: stream.camera }, 'video: ffmpeg could not start'));
    child.on('exit', (code, signal) => {
      if (stream.ffmpeg === child) stream.ffmpeg = null;
      if (stream.stopped) return;
      if (!gotData) stream.failures++;
      const reason = redact(errors.trim(), src);
      if (stream.failures >= UPSTREAM_TRIES) {
        // The camera cannot be pulled: say so rather than keep viewers on a black tile (their leaving stops the stream).
        this.d.onUpstreamFailure?.(true);
        this.d.log.warn({ camera: stream.camera, code, signal, stderr: reason }, 'video: camera stream unreachable; viewers told');
        const text = `camera stream unavailable${reason ? `: ${reason.split('\n').pop()}` : ''}`.slice(0, 120);
        for (const ws of [...stream.viewers]) ws.close(VIDEO_CLOSE.upstream, text);
        void this.stopStream(stream);
        return;
      }
      this.d.onUpstreamFailure?.(false);
      // A camera that dropped: retry with back-off (1 s … 30 s), reset after a run of a minute.
      if (Date.now() - started > 60_000) stream.restarts = 0;
      const delay = Math.min(30_000, 1000 * 2 ** stream.restarts++);
      this.d.log.warn({ camera: stream.camera, code, signal, stderr: reason, retryMs: delay }, 'video: ffmpeg ended; restarting');
      stream.timer = setTimeout(() => this.spawn(stream), delay);
      stream.timer.unref();
    });
  }

  private forward(stream: Stream, chunk: Buffer): void {
    const data = stream.rest.length ? Buffer.concat([stream.rest, chunk]) : chunk;
    const whole = data.length - (data.length % TS_PACKET);
    stream.rest = Buffer.from(data.subarray(whole));
    if (whole === 0) return;
    const frame = data.subarray(0, whole);
    for (const ws of stream.viewers) {
      if (ws.readyState !== ws.OPEN) this.leave(stream, ws);
      else if (ws.bufferedAmount < MAX_BUFFERED) ws.send(frame, { binary: true });
    }
  }

  private async stopStream(stream: Stream): Promise<void> {
    if (stream.stopped) return;
    stream.stopped = true;
    clearTimeout(stream.timer);
    if (this.streams.get(stream.camera) === stream) this.streams.delete(stream.camera);
    const child = stream.ffmpeg;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        // SIGTERM, SIGKILL after 2 s; given up waiting after 5 s (a child that never started emits no exit).
        const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
        const giveUp = setTimeout(done, 5000);
        function done(): void {
          clearTimeout(kill);
          clearTimeout(giveUp);
          resolve();
        }
        child.once('exit', done);
        child.once('error', done);
        child.kill('SIGTERM');
      });
    }
    this.d.log.info({ camera: stream.camera }, 'video: stream stopped (no viewers)');
  }

  /** Closes every viewer and stops every ffmpeg. */
  async close(): Promise<void> {
    this.closing = true;
    this.http.off('upgrade', this.onUpgrade);
    const streams = [...this.streams.values()];
    for (const s of streams) for (const ws of s.viewers) ws.close(VIDEO_CLOSE.shutdown, this.d.stoppingReason ?? 'hub stopping');
    await Promise.all(streams.map((s) => this.stopStream(s)));
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

export function isVideoRequest(url: string | undefined): boolean {
  return (url ?? '').startsWith(`${VIDEO_PATH}/`);
}

function redact(text: string, src: CameraSourceConfig): string {
  return src.password ? text.split(src.password).join('***') : text;
}
