import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { startDiscoveryResponder, type DiscoveryResponder } from './discovery.ts';
import { startRtspVideo, type RtspVideo } from './rtsp.ts';
import { snapshotJpeg } from './snapshot.ts';
import { child, envelope, fault, parseDurationMs, parseSoap, SoapParseError, text, type SoapRequest } from './soap.ts';
import * as t from './templates.ts';
import { NonceCache, verifyUsernameToken } from './wsse.ts';

/** One virtual camera. Only `id` and `password` are required; the rest are believable defaults. */
export interface VirtualCameraSpec {
  id: string;
  name?: string;
  manufacturer?: string;
  model?: string;
  firmware?: string;
  username?: string;
  password: string;
  ptz?: boolean;
  presets?: t.Preset[];
  /** The camera's clock minus the true time (a camera without NTP drifts). */
  clockOffsetMs?: number;
  /** Longest PullMessages Timeout the camera accepts; a longer one gets a fault (brands that refuse long polls). */
  maxPullTimeoutMs?: number;
  /** Longest subscription lifetime granted by CreatePullPointSubscription and Renew. */
  maxTerminationMs?: number;
  /** false: CreatePullPointSubscription is answered with a fault (no PullPoint support). */
  pullPoint?: boolean;
  /** Motion on a schedule: a motion start every N seconds (jittered), ended 2 s later. */
  motionEverySeconds?: number;
}

export interface OnvifSimulatorOptions {
  /** Listen address of the HTTP (SOAP, snapshots) and RTSP servers. Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  cameras: VirtualCameraSpec[];
  /** RTSP test stream from ffmpeg; false for none (stream URIs are still answered). */
  video?: false | { width?: number; height?: number; fps?: number; clientPort?: number; publishPort?: number };
  /** WS-Discovery responder on UDP 3702 (binds every interface: run it in a private network namespace). */
  discovery?: false | { port?: number; group?: string; interfaceAddress?: string };
  /** The true time; each camera's clock is this plus its offset. */
  now?: () => number;
  /** Accepted distance between a UsernameToken's Created and the camera's clock. Default 5 min. */
  authWindowMs?: number;
  log?: (msg: string) => void;
}

export interface CameraView {
  id: string;
  online: boolean;
  motion: boolean;
  tampered: boolean;
  moving: boolean;
  /** Preset tokens gone to, in order. */
  presetsVisited: string[];
  subscriptions: number;
  clockOffsetMs: number;
}

export interface OnvifSimulatorStats {
  requests: Record<string, number>;
  authFailures: Record<string, number>;
  faults: number;
  badRequests: number;
  snapshots: number;
  subscriptionsCreated: number;
  renewals: number;
}

export interface OnvifSimulator {
  host: string;
  port: number;
  rtspPort: number | null;
  /** The camera's device service address (what discovery advertises and the edge connects to). */
  deviceUrl(id: string): string;
  cameraIds(): string[];
  setOnline(id: string, online: boolean): void;
  /** Starts or ends motion or tamper; subscribers get a Changed notification. */
  trigger(id: string, kind: 'motion' | 'tamper', state: boolean): void;
  setClockOffset(id: string, ms: number): void;
  camera(id: string): CameraView;
  stats(): OnvifSimulatorStats;
  /** Resolves once the RTSP test stream is pullable (immediately without video). */
  videoReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const ID = /^[a-z0-9][a-z0-9_.-]{0,127}$/;
const MAX_BODY = 64 * 1024;
const MAX_SUBSCRIPTIONS = 8;
const MAX_QUEUE = 100;
const MOTION_TOPIC = 'tns1:VideoSource/MotionAlarm';
const TAMPER_TOPIC = 'tns1:VideoSource/GlobalSceneChange/ImagingService';

interface Subscription {
  id: string;
  camera: Camera;
  terminationAt: number; // true time
  queue: t.Notification[];
  waiter: { finish: () => void; timer: NodeJS.Timeout } | null;
}

interface Camera {
  spec: VirtualCameraSpec;
  index: number;
  facts: t.CameraFacts;
  users: Map<string, string>;
  nonces: NonceCache;
  presets: t.Preset[];
  online: boolean;
  motion: boolean;
  tampered: boolean;
  moving: boolean;
  presetsVisited: string[];
  clockOffsetMs: number;
  subscriptions: Map<string, Subscription>;
  snapshots: Map<boolean, Buffer>;
  timers: NodeJS.Timeout[];
}

const DEFAULT_PRESETS: t.Preset[] = [
  { token: 'preset_home', name: 'Home', pan: 0, tilt: 0, zoom: 0 },
  { token: 'preset_gate', name: 'Gate', pan: 0.5, tilt: -0.2, zoom: 0.3 },
  { token: 'preset_lobby', name: 'Lobby', pan: -0.4, tilt: -0.1, zoom: 0.1 },
];

class Fault extends Error {
  constructor(readonly code: 'Sender' | 'Receiver', readonly subcode: string, reason: string, readonly status = code === 'Sender' ? 400 : 500) {
    super(reason);
  }
}

/** A stable urn:uuid per camera id, so discovery finds the same camera every time. */
function urnFor(id: string): string {
  const h = createHash('sha1').update(`warden-virtual-camera:${id}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Many virtual ONVIF cameras from one process: one HTTP server, one path per camera
 * (`/onvif/{id}/device_service`, `/media`, `/ptz`, `/events`, `/subscription/{sid}`, `/snapshot.jpg`),
 * WS-Security UsernameToken digest on every call but GetSystemDateAndTime, HTTP Basic on snapshots,
 * an optional RTSP test stream and an optional WS-Discovery responder.
 */
export async function startOnvifSimulator(o: OnvifSimulatorOptions): Promise<OnvifSimulator> {
  const host = o.host ?? '127.0.0.1';
  const now = o.now ?? Date.now;
  const authWindowMs = o.authWindowMs ?? 5 * 60_000;
  const log = o.log ?? (() => {});
  const video = o.video === false ? null : { width: 640, height: 360, fps: 10, clientPort: 0, publishPort: 0, ...o.video };
  const facts = { width: video?.width ?? 640, height: video?.height ?? 360, fps: video?.fps ?? 10 };

  const stats: OnvifSimulatorStats = { requests: {}, authFailures: {}, faults: 0, badRequests: 0, snapshots: 0, subscriptionsCreated: 0, renewals: 0 };
  const count = (m: Record<string, number>, k: string): void => {
    m[k] = (m[k] ?? 0) + 1;
  };

  const cameras = new Map<string, Camera>();
  const subscriptions = new Map<string, Subscription>();
  let base = '';
  let rtsp: RtspVideo | null = null;
  let rtspPort: number | null = null;

  o.cameras.forEach((spec, index) => {
    if (!ID.test(spec.id)) throw new Error(`camera id ${JSON.stringify(spec.id)} must match ${ID}`);
    if (cameras.has(spec.id)) throw new Error(`camera id ${spec.id} appears twice`);
    if (!spec.password) throw new Error(`camera ${spec.id}: a password is required (cameras authenticate every call)`);
    cameras.set(spec.id, {
      spec,
      index,
      facts: null as unknown as t.CameraFacts, // set once the port is known
      users: new Map([[spec.username ?? 'admin', spec.password]]),
      nonces: new NonceCache(2 * authWindowMs),
      presets: spec.presets ?? DEFAULT_PRESETS,
      online: true,
      motion: false,
      tampered: false,
      moving: false,
      presetsVisited: [],
      clockOffsetMs: spec.clockOffsetMs ?? 0,
      subscriptions: new Map(),
      snapshots: new Map(),
      timers: [],
    });
  });

  const cam = (id: string): Camera => {
    const c = cameras.get(id);
    if (!c) throw new Error(`no virtual camera ${id}`);
    return c;
  };
  const cameraNow = (c: Camera): number => now() + c.clockOffsetMs;

  // ---- events -----------------------------------------------------------------------------------
  const flush = (s: Subscription): void => {
    if (s.waiter) {
      clearTimeout(s.waiter.timer);
      const w = s.waiter;
      s.waiter = null;
      w.finish();
    }
  };
  const dropSubscription = (s: Subscription): void => {
    subscriptions.delete(s.id);
    s.camera.subscriptions.delete(s.id);
    flush(s);
  };
  const expire = (): void => {
    const t0 = now();
    for (const s of subscriptions.values()) if (s.terminationAt <= t0) dropSubscription(s);
  };
  const notification = (c: Camera, kind: 'motion' | 'tamper', operation: t.Notification['operation']): t.Notification => ({
    topic: kind === 'motion' ? MOTION_TOPIC : TAMPER_TOPIC,
    utc: cameraNow(c),
    operation,
    source: ['VideoSourceToken', t.SOURCE_TOKEN],
    data: ['State', String(kind === 'motion' ? c.motion : c.tampered)],
  });
  const publish = (c: Camera, kind: 'motion' | 'tamper'): void => {
    expire();
    for (const s of c.subscriptions.values()) {
      s.queue.push(notification(c, kind, 'Changed'));
      if (s.queue.length > MAX_QUEUE) s.queue.shift();
      flush(s);
    }
  };

  // ---- SOAP handlers ----------------------------------------------------------------------------
  type Handler = (c: Camera, req: SoapRequest, extra: { sub?: Subscription }) => string | Promise<string>;
  const profileToken = (req: SoapRequest): void => {
    const tok = text(req.body.ProfileToken);
    if (tok !== undefined && tok !== t.PROFILE_TOKEN) throw new Fault('Sender', 'ter:InvalidArgVal', `no profile ${tok}`);
  };
  const termination = (c: Camera, requested: string | undefined, fallbackMs: number): number => {
    const max = c.spec.maxTerminationMs ?? 120_000;
    let ms = fallbackMs;
    if (requested) {
      const d = parseDurationMs(requested);
      if (d !== null) ms = d;
      else {
        const at = Date.parse(requested);
        if (Number.isNaN(at)) throw new Fault('Sender', 'ter:InvalidArgVal', `TerminationTime ${requested} is neither a duration nor a time`);
        ms = at - cameraNow(c);
      }
    }
    if (ms <= 0) throw new Fault('Sender', 'ter:InvalidArgVal', 'TerminationTime is in the past');
    return now() + Math.min(ms, max);
  };

  const SERVICES: Record<string, Record<string, Handler>> = {
    device_service: {
      GetSystemDateAndTime: (c) => t.systemDateAndTime(cameraNow(c)),
      GetServices: () => {
        // Like many older cameras: GetServices is not implemented, clients fall back to GetCapabilities.
        throw new Fault('Receiver', 'ter:ActionNotSupported', 'GetServices is not supported by this device');
      },
      GetCapabilities: (c) => t.capabilities(c.facts),
      GetDeviceInformation: (c) => t.deviceInformation(c.facts),
    },
    media: {
      GetProfiles: (c) => t.profiles(c.facts),
      GetVideoSources: (c) => t.videoSources(c.facts),
      GetStreamUri: (c, req) => {
        profileToken(req);
        return t.mediaUri('GetStreamUri', rtsp ? rtsp.uriFor(c.spec.id) : `rtsp://${host}:554/cameras/${c.spec.id}`);
      },
      GetSnapshotUri: (c, req) => {
        profileToken(req);
        return t.mediaUri('GetSnapshotUri', `${base}/onvif/${c.spec.id}/snapshot.jpg`);
      },
    },
    ptz: {
      ContinuousMove: (c, req) => {
        profileToken(req);
        c.moving = true;
        return t.empty('tptz', 'ContinuousMove');
      },
      Stop: (c, req) => {
        profileToken(req);
        c.moving = false;
        return t.empty('tptz', 'Stop');
      },
      GetPresets: (c, req) => {
        profileToken(req);
        return t.presets(c.presets);
      },
      GotoPreset: (c, req) => {
        profileToken(req);
        const tok = text(req.body.PresetToken);
        if (!tok || !c.presets.some((p) => p.token === tok)) throw new Fault('Sender', 'ter:InvalidArgVal', `no preset ${tok ?? '(none)'}`);
        c.moving = false;
        c.presetsVisited.push(tok);
        return t.empty('tptz', 'GotoPreset');
      },
    },
    events: {
      CreatePullPointSubscription: (c, req) => {
        if (c.spec.pullPoint === false) throw new Fault('Receiver', 'ter:ActionNotSupported', 'PullPoint subscriptions are not supported');
        expire();
        if (c.subscriptions.size >= MAX_SUBSCRIPTIONS) throw new Fault('Receiver', 'ter:TooManySubscriptions', `at most ${MAX_SUBSCRIPTIONS} subscriptions`);
        const s: Subscription = {
          id: randomUUID(),
          camera: c,
          terminationAt: termination(c, text(req.body.InitialTerminationTime), 60_000),
          // ONVIF property events: a new subscriber first learns the current states.
          queue: [notification(c, 'motion', 'Initialized'), notification(c, 'tamper', 'Initialized')],
          waiter: null,
        };
        subscriptions.set(s.id, s);
        c.subscriptions.set(s.id, s);
        stats.subscriptionsCreated++;
        return t.subscriptionCreated(`${base}/onvif/${c.spec.id}/subscription/${s.id}`, cameraNow(c), s.terminationAt + c.clockOffsetMs);
      },
    },
    subscription: {
      PullMessages: async (c, req, { sub }) => {
        const s = sub!;
        const timeout = parseDurationMs(text(req.body.Timeout) ?? 'PT0S');
        if (timeout === null) throw new Fault('Sender', 'ter:InvalidArgVal', 'Timeout is not a duration');
        if (timeout > (c.spec.maxPullTimeoutMs ?? 60_000)) throw new Fault('Sender', 'ter:InvalidArgVal', `Timeout above ${c.spec.maxPullTimeoutMs ?? 60_000} ms`);
        const limit = Math.max(1, Math.min(100, Number(text(req.body.MessageLimit) ?? 10) || 10));
        if (s.queue.length === 0 && timeout > 0) {
          if (s.waiter) flush(s); // one pull at a time: an older one returns empty
          await new Promise<void>((resolve) => {
            s.waiter = { finish: resolve, timer: setTimeout(() => flush(s), Math.min(timeout, Math.max(0, s.terminationAt - now()))) };
          });
        }
        return t.pulled(cameraNow(c), s.terminationAt + c.clockOffsetMs, s.queue.splice(0, limit));
      },
      Renew: (c, req, { sub }) => {
        sub!.terminationAt = termination(c, text(req.body.TerminationTime), 60_000);
        stats.renewals++;
        return t.renewed(cameraNow(c), sub!.terminationAt + c.clockOffsetMs);
      },
      Unsubscribe: (_c, _req, { sub }) => {
        dropSubscription(sub!);
        return t.empty('wsnt', 'Unsubscribe');
      },
    },
  };

  // ---- HTTP -------------------------------------------------------------------------------------
  const sockets = new Set<Socket>();
  const send = (res: ServerResponse, status: number, xml: string): void => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) });
    res.end(xml);
  };
  const sendFault = (res: ServerResponse, f: Fault): void => {
    stats.faults++;
    send(res, f.status, fault(f.code, f.subcode, f.message));
  };

  const snapshot = (c: Camera, req: IncomingMessage, res: ServerResponse): void => {
    const auth = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    const [user, ...rest] = auth ? Buffer.from(auth[1]!, 'base64').toString('utf8').split(':') : [];
    const secret = user === undefined ? undefined : c.users.get(user);
    const given = Buffer.from(rest.join(':'));
    if (secret === undefined || given.length !== Buffer.byteLength(secret) || !timingSafeEqual(given, Buffer.from(secret))) {
      count(stats.authFailures, auth ? 'snapshot_bad_credentials' : 'snapshot_missing');
      res.writeHead(401, { 'WWW-Authenticate': `Basic realm="${c.spec.id}"` }).end();
      return;
    }
    let jpg = c.snapshots.get(c.tampered);
    if (!jpg) c.snapshots.set(c.tampered, (jpg = snapshotJpeg(c.index + 1, c.tampered)));
    stats.snapshots++;
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpg.length }).end(jpg);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const m = /^\/onvif\/([^/]+)\/(device_service|media|ptz|events|snapshot\.jpg|subscription\/([0-9a-f-]{36}))$/.exec((req.url ?? '').split('?')[0]!);
    const c = m ? cameras.get(m[1]!) : undefined;
    if (!m || !c) {
      stats.badRequests++;
      res.writeHead(404).end();
      return;
    }
    if (!c.online) {
      // An unreachable camera: the connection just drops.
      req.socket.destroy();
      return;
    }
    if (m[2] === 'snapshot.jpg') {
      if (req.method !== 'GET') res.writeHead(405, { Allow: 'GET' }).end();
      else snapshot(c, req, res);
      return;
    }
    if (req.method !== 'POST') {
      stats.badRequests++;
      res.writeHead(405, { Allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) {
        stats.badRequests++;
        res.writeHead(413, { Connection: 'close' }).end();
        req.socket.destroy();
        return;
      }
      chunks.push(chunk);
    }
    let soap: SoapRequest;
    try {
      soap = parseSoap(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      stats.badRequests++;
      if (err instanceof SoapParseError) return sendFault(res, new Fault('Sender', 'ter:WellFormed', err.message));
      throw err;
    }
    count(stats.requests, soap.action);
    const service = m[3] ? 'subscription' : m[2]!;
    const h = SERVICES[service]![soap.action];
    if (!h) return sendFault(res, new Fault('Receiver', 'ter:ActionNotSupported', `${soap.action} is not supported on ${service}`));
    if (soap.action !== 'GetSystemDateAndTime') {
      const a = verifyUsernameToken(soap.header, c.users, cameraNow(c), c.nonces, authWindowMs);
      if (!a.ok) {
        count(stats.authFailures, a.reason);
        return sendFault(res, new Fault('Sender', 'ter:NotAuthorized', 'Sender not authorized'));
      }
    }
    let sub: Subscription | undefined;
    if (m[3]) {
      expire();
      sub = c.subscriptions.get(m[3]);
      if (!sub) return sendFault(res, new Fault('Receiver', 'wsrf-rw:ResourceUnknownFault', 'no such subscription (expired or unsubscribed)'));
    }
    try {
      send(res, 200, envelope(await h(c, soap, { sub })));
    } catch (err) {
      if (err instanceof Fault) return sendFault(res, err);
      throw err;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log(`onvif simulator: ${err.message}`);
      if (!res.headersSent) sendFault(res, new Fault('Receiver', 'ter:Action', 'internal error'));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => {
    stats.badRequests++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  base = `http://${host}:${port}`;
  for (const c of cameras.values()) {
    const s = c.spec;
    c.facts = {
      base: `${base}/onvif/${s.id}`,
      name: s.name ?? s.id,
      manufacturer: s.manufacturer ?? 'Warden Virtual',
      model: s.model ?? (s.ptz === false ? 'VC-Bullet' : 'VC-PTZ'),
      firmware: s.firmware ?? 'V1.2.3',
      serial: `WSIM-${String(c.index + 1).padStart(5, '0')}`,
      hardwareId: 'virtual',
      ...facts,
      ptz: s.ptz !== false,
    };
  }

  const stops: Array<() => Promise<void>> = [];
  try {
    if (video) {
      rtsp = await startRtspVideo({
        host,
        clientPort: video.clientPort,
        publishPort: video.publishPort,
        width: video.width,
        height: video.height,
        fps: video.fps,
        credentials: (id, user) => cameras.get(id)?.users.get(user),
        isOnline: (id) => cameras.get(id)?.online ?? false,
        log,
      });
      rtspPort = rtsp.clientPort;
      const r = rtsp;
      stops.push(() => r.stop());
    }
    if (o.discovery !== false && o.discovery !== undefined) {
      const d: DiscoveryResponder = await startDiscoveryResponder({
        ...o.discovery,
        cameras: () =>
          [...cameras.values()]
            .filter((c) => c.online)
            .map((c) => ({
              urn: urnFor(c.spec.id),
              xaddr: `${c.facts.base}/device_service`,
              scopes: [
                'onvif://www.onvif.org/type/video_encoder',
                ...(c.facts.ptz ? ['onvif://www.onvif.org/type/ptz'] : []),
                `onvif://www.onvif.org/name/${encodeURIComponent(c.facts.name)}`,
                `onvif://www.onvif.org/hardware/${encodeURIComponent(c.facts.model)}`,
              ].join(' '),
            })),
        log,
      });
      stops.push(() => d.stop());
    }
  } catch (err) {
    for (const s of stops.reverse()) await s();
    await new Promise<void>((r) => server.close(() => r()));
    throw err;
  }

  for (const c of cameras.values()) {
    const every = c.spec.motionEverySeconds;
    if (every && every > 0) {
      const tick = (): void => {
        const timer = setTimeout(
          () => {
            if (c.online) {
              c.motion = true;
              publish(c, 'motion');
              c.timers.push(
                setTimeout(() => {
                  c.motion = false;
                  publish(c, 'motion');
                }, 2000).unref(),
              );
            }
            c.timers = c.timers.filter((x) => x !== timer);
            tick();
          },
          every * 1000 * (0.5 + Math.random()),
        ).unref();
        c.timers.push(timer);
      };
      tick();
    }
  }
  const sweeper = setInterval(expire, 1000).unref();

  return {
    host,
    port,
    rtspPort,
    deviceUrl: (id) => `${cam(id).facts.base}/device_service`,
    cameraIds: () => [...cameras.keys()],
    setOnline(id, online) {
      const c = cam(id);
      c.online = online;
      if (!online) for (const s of [...c.subscriptions.values()]) dropSubscription(s);
    },
    trigger(id, kind, state) {
      const c = cam(id);
      if (kind === 'motion') c.motion = state;
      else c.tampered = state;
      publish(c, kind);
    },
    setClockOffset(id, ms) {
      cam(id).clockOffsetMs = ms;
    },
    camera(id) {
      const c = cam(id);
      return {
        id,
        online: c.online,
        motion: c.motion,
        tampered: c.tampered,
        moving: c.moving,
        presetsVisited: [...c.presetsVisited],
        subscriptions: c.subscriptions.size,
        clockOffsetMs: c.clockOffsetMs,
      };
    },
    stats: () => structuredClone(stats),
    videoReady: (timeoutMs) => (rtsp ? rtsp.ready(timeoutMs) : Promise.resolve()),
    async stop() {
      clearInterval(sweeper);
      for (const c of cameras.values()) for (const x of c.timers) clearTimeout(x);
      for (const s of [...subscriptions.values()]) dropSubscription(s);
      for (const s of stops.reverse()) await s();
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

export { urnFor as cameraUrn };
