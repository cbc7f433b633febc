import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import { createRequire } from 'node:module';

/**
 * The virtual cameras' video: ffmpeg's test source (a moving pattern with a clock) pushed into a
 * pure-JS RTSP server (`rtsp-streaming-server`), which cameras' stream URIs pull from. Debian's ffmpeg
 * cannot serve RTSP to a pulling client by itself, hence the server in between.
 *
 * The package binds every interface and has no host option; here its TCP servers and its RTP/RTCP
 * sockets are bound to the configured host (127.0.0.1 by default) by wrapping their listen calls.
 * It speaks RTP over UDP only (a SETUP asking for TCP interleaving gets 461), so pull with
 * `-rtsp_transport udp`. One ffmpeg feeds every camera of a simulator: `/cameras/{id}` is an alias of
 * the one mount, refused (403) while that camera is offline; clients authenticate with HTTP Basic.
 */

const require = createRequire(import.meta.url);

interface RtspServerModule {
  default: new (config: { serverPort: number; clientPort: number; rtpPortStart: number; rtpPortCount: number; clientServerHooks?: unknown; publishServerHooks?: unknown }) => RtspServerInstance;
  RtpUdp: { prototype: { listen(): Promise<void> } };
  Client: { prototype: { listen(): Promise<void> } };
  ClientServer: { prototype: Record<string, unknown> };
  PublishServer: { prototype: Record<string, unknown> };
}
interface RtspServerInstance {
  start(): Promise<void>;
  ClientServer: { server: Server; clients: Record<string, { close?: () => void }> };
  PublishServer: { server: Server };
  Mounts: { mounts: Record<string, unknown> };
}

let patchedHost: string | null = null;
type UdpLike = { bind(port: number, host: string, cb: () => void): void; on(e: 'error', f: (e: Error) => void): void; removeListener(e: 'error', f: (e: Error) => void): void };

function bindUdp(sock: UdpLike, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.on('error', reject);
    sock.bind(port, host, () => {
      sock.removeListener('error', reject);
      resolve();
    });
  });
}

/** Binds the package's UDP sockets to one host (process-wide: the package keeps no per-server setting). */
function loadRtspServer(host: string): RtspServerModule {
  const mod = require('rtsp-streaming-server') as RtspServerModule;
  if (patchedHost === null) {
    patchedHost = host;
    mod.RtpUdp.prototype.listen = function (this: { server: UdpLike; port: number }) {
      return bindUdp(this.server, this.port, patchedHost!);
    };
    mod.Client.prototype.listen = async function (this: { rtpServer: UdpLike; rtcpServer: UdpLike; rtpServerPort: number; rtcpServerPort: number }) {
      await bindUdp(this.rtpServer, this.rtpServerPort, patchedHost!);
      await bindUdp(this.rtcpServer, this.rtcpServerPort, patchedHost!);
    };
    // A request the package cannot handle (e.g. SETUP of a path with no stream) throws inside an async
    // handler, an unhandled rejection that would end the process: answer 404 instead.
    // Pullers ask for `/cameras/{id}`: the camera goes into req.context (for the hooks) and the path
    // becomes the one published mount, `/live`, before the package looks it up.
    for (const proto of [mod.ClientServer.prototype, mod.PublishServer.prototype]) {
      const pulling = proto === mod.ClientServer.prototype;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const fn = proto[name];
        if (!name.endsWith('Request') || typeof fn !== 'function') continue;
        proto[name] = async function (this: unknown, req: { uri: string; context?: unknown }, res: { statusCode: number; end(): void }) {
          try {
            if (pulling) {
              const camera = cameraOf(req.uri);
              req.context = { camera };
              if (camera !== null) req.uri = req.uri.replace(`/cameras/${camera}`, '/live');
            }
            return await (fn as (a: unknown, b: unknown) => Promise<unknown>).call(this, req, res);
          } catch (err) {
            if (process.env.WARDEN_RTSP_DEBUG) console.error(name, err);
            try {
              res.statusCode = 404;
              res.end();
            } catch {
              // the connection is gone
            }
          }
        };
      }
    }
  } else if (patchedHost !== host) {
    throw new Error(`the RTSP server's UDP sockets are already bound to ${patchedHost} in this process`);
  }
  return mod;
}

function bindTcp(server: Server, host: string, sockets: Set<Socket>): void {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const listen = server.listen.bind(server) as (port: number, host: string, cb: () => void) => Server;
  (server as unknown as { listen: (port: number, cb: () => void) => Server }).listen = (port, cb) => listen(port, host, cb);
}

/** A free even UDP port range of `count` ports (RTP/RTCP pairs), probed by binding its first port. */
async function freeUdpRange(host: string, count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = 20000 + 2 * Math.floor(Math.random() * 20000);
    const s = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      s.once('error', () => resolve(false));
      s.bind(start, host, () => resolve(true));
    });
    await new Promise<void>((r) => (ok ? s.close(() => r()) : r()));
    if (ok && start + count < 65535) return start;
  }
  throw new Error('no free UDP port range for RTP');
}

export interface RtspVideoOptions {
  host: string;
  /** 0 = any free port. */
  clientPort: number;
  publishPort: number;
  width: number;
  height: number;
  fps: number;
  /** Who may pull `/cameras/{id}`: returns the camera's password for its user, or undefined. */
  credentials(cameraId: string, user: string): string | undefined;
  isOnline(cameraId: string): boolean;
  /** Log line sink for ffmpeg's stderr (errors only). */
  log?(line: string): void;
  ffmpegPath?: string;
}

export interface RtspVideo {
  clientPort: number;
  uriFor(cameraId: string): string;
  /** Resolves once ffmpeg's stream is announced and pullable (or rejects after the timeout). */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const CAMERA_PATH = /^\/cameras\/([a-z0-9][a-z0-9_.-]{0,127})(\/.*)?$/;

function cameraOf(uri: string): string | null {
  try {
    return CAMERA_PATH.exec(new URL(uri).pathname)?.[1] ?? null;
  } catch {
    return null;
  }
}

export async function startRtspVideo(o: RtspVideoOptions): Promise<RtspVideo> {
  const mod = loadRtspServer(o.host);
  const rtpPortCount = 200;
  const rtpPortStart = await freeUdpRange(o.host, rtpPortCount);
  const server = new mod.default({
    serverPort: o.publishPort,
    clientPort: o.clientPort,
    rtpPortStart,
    rtpPortCount,
    clientServerHooks: {
      authentication: async (user: string, pass: string, req: { context?: { camera?: string | null } }) => {
        const cam = req.context?.camera;
        return typeof cam === 'string' && o.credentials(cam, user) === pass;
      },
      checkMount: async (req: { context?: { camera?: string | null } }) => {
        const cam = req.context?.camera;
        return typeof cam === 'string' && o.isOnline(cam) ? true : 403;
      },
    },
    publishServerHooks: {
      // Only the simulator's own ffmpeg publishes, on loopback, to the one mount.
      checkMount: async (req: { uri: string }) => new URL(req.uri).pathname === '/live',
    },
  });
  const sockets = new Set<Socket>();
  bindTcp(server.ClientServer.server, o.host, sockets);
  bindTcp(server.PublishServer.server, o.host, sockets);
  await server.start();
  const clientPort = (server.ClientServer.server.address() as { port: number }).port;
  const publishPort = (server.PublishServer.server.address() as { port: number }).port;

  let ffmpeg: ChildProcess | null = null;
  let stopped = false;
  const startFfmpeg = (): void => {
    if (stopped) return;
    const args = [
      '-hide_banner', '-nostdin', '-loglevel', 'error',
      '-re', '-f', 'lavfi', '-i', `testsrc=size=${o.width}x${o.height}:rate=${o.fps}`,
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(o.fps * 2), '-b:v', '400k',
      '-f', 'rtsp', '-rtsp_transport', 'udp', `rtsp://${o.host}:${publishPort}/live`,
    ];
    const child = spawn(o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    ffmpeg = child;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => o.log?.(d.trim()));
    child.on('error', (err) => o.log?.(`ffmpeg: ${err.message}`));
    child.on('exit', () => {
      if (ffmpeg === child) ffmpeg = null;
      // ffmpeg ends when the publish session breaks; the stream comes back a second later.
      if (!stopped) setTimeout(startFfmpeg, 1000).unref();
    });
  };
  startFfmpeg();

  // A process exiting without stop() must not leave ffmpeg behind.
  const onExit = (): void => {
    ffmpeg?.kill('SIGKILL');
  };
  process.once('exit', onExit);

  return {
    clientPort,
    uriFor: (id) => `rtsp://${o.host}:${clientPort}/cameras/${id}`,
    async ready(timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (!server.Mounts.mounts['/live']) {
        if (Date.now() > until) throw new Error('ffmpeg test stream did not start (is ffmpeg installed?)');
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      stopped = true;
      process.removeListener('exit', onExit);
      const child = ffmpeg;
      if (child && child.exitCode === null) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => child.kill('SIGKILL'), 2000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      for (const c of Object.values(server.ClientServer.clients)) c.close?.();
      const closed = Promise.all([server.ClientServer.server, server.PublishServer.server].map((s) => new Promise<void>((r) => s.close(() => r()))));
      // Open RTSP sessions would hold close() forever.
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
