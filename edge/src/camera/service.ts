import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CameraEventLoop, type EventLoopStatus } from './events.ts';
import type { CameraNotification } from './notifications.ts';
import { OnvifCameraClient, type DeviceDetails, type StreamProfile } from './onvif-client.ts';
import { FastPathMiss, RtspSession, SoapClock } from './light-probe.ts';
import { probeRtsp } from './rtsp-probe.ts';
import { fetchSnapshot } from './snapshot.ts';

/**
 * The gateway's cameras: one ONVIF client per camera, health probes spread over a cycle, PullPoint
 * events, PTZ presets and snapshots. Protocol-neutral callbacks carry the outcome to the agent (the
 * `onvif` transport turns them into native messages for the camera driver and availability signals),
 * which keeps a seam for another video protocol (GB/T 28181) beside this one.
 *
 * Health: each camera is probed once per `cycleMs` at its own offset in the cycle (from a hash of its
 * id, so 1,311 cameras do not all fire together): the ONVIF clock (GetSystemDateAndTime, which also
 * gives the drift) and an RTSP DESCRIBE of its stream. The `onvif` client is used to connect (profiles,
 * URIs, events, PTZ); the per-cycle probe is the light one (light-probe.ts: hand-written SOAP over one
 * shared keep-alive agent, DESCRIBE on a kept RTSP connection), falling back to the client when the
 * fast path cannot read an answer. `offlineAfter` failed probes in a row make it
 * offline; the first good probe brings it back.
 */

export interface CameraConfig {
  id: string;
  /** Device service address, e.g. http://10.1.2.3/onvif/device_service. */
  xaddr: string;
  username: string;
  password: string;
  /** Subscribe to its events (default true). */
  events?: boolean;
  /** This camera's probe period and offline debounce, when not the service's. */
  cycleMs?: number;
  offlineAfter?: number;
}

export interface CameraServiceOptions {
  cameras: readonly CameraConfig[];
  cycleMs?: number;
  offlineAfter?: number;
  probeTimeoutMs?: number;
  /** Probe the RTSP stream too (default true). */
  rtsp?: boolean;
  /**
   * 'light' (default): each cycle's probe is a hand-written GetSystemDateAndTime over a keep-alive agent
   * shared by all cameras plus a DESCRIBE on a kept RTSP connection (light-probe.ts); 'client': the `onvif`
   * client's call and a new RTSP connection per probe (what the benchmark compares against).
   */
  probeMode?: 'light' | 'client';
  /** Sockets the light probe's shared agent keeps per camera host (default 8). */
  maxSocketsPerHost?: number;
  /** Called after every probe (metrics, benchmarks, the status report). */
  onProbe?(outcome: ProbeOutcome): void;
  /** Event loop: long-poll wait and the polling fallback's period. */
  pullTimeoutSeconds?: number;
  pollIntervalMs?: number;
  eventRetryMs?: number;
  /** The gateway clock (drift and record times). */
  now?: () => number;
  onNotification(deviceId: string, n: CameraNotification & { ts: number }): void;
  onAvailability(deviceId: string, online: boolean, reason: string): void;
  /** Clock drift and stream facts, as telemetry. */
  onTelemetry?(deviceId: string, metrics: Record<string, number>, ts: number): void;
  /**
   * The camera's health facts after a good probe, for the hub's camera status: when they change (drift by a
   * second or more, stream size or codec) and otherwise every `healthReportMs` (default 10 min) as a heartbeat.
   */
  onHealthReport?(deviceId: string, report: HealthReport, ts: number): void;
  healthReportMs?: number;
  registry?: Registry;
  logger: Logger;
}

export interface CameraStatus {
  id: string;
  online: boolean | null;
  lastGoodProbe: number | null;
  lastProbe: number | null;
  failures: number;
  lastError: string | null;
  /** Camera clock minus gateway clock, ms (whole-second resolution). */
  driftMs: number | null;
  device: DeviceDetails | null;
  profile: StreamProfile | null;
  streamUri: string | null;
  codec: string | null;
  events: EventLoopStatus | null;
}

export interface HealthReport {
  drift_s: number;
  width?: number;
  height?: number;
  fps?: number;
  codec?: string;
}

export interface ProbeOutcome {
  id: string;
  ok: boolean;
  ms: number;
}

interface Cam {
  cfg: CameraConfig;
  client: OnvifCameraClient;
  st: CameraStatus;
  snapshotUri: string | null;
  presets: Map<string, string> | null;
  events: CameraEventLoop | null;
  /** When its next scheduled probe is due (performance.now() time). */
  dueAt: number;
  probing: Promise<ProbeOutcome> | null;
  rtsp: RtspSession | null;
  lastDriftSent: number | null;
  lastReport: { shape: string; drift: number; at: number } | null;
  states: Map<'motion' | 'tamper', boolean>;
  /** Connected and described (device, profile, URIs); false again never: a reboot keeps the same facts. */
  ready: boolean;
}

function metricsFor(registry: Registry | undefined) {
  const reg = registry ? [registry] : [];
  const get = <T>(name: string, make: () => T): T => (registry?.getSingleMetric(name) as T | undefined) ?? make();
  return {
    probes: get('warden_edge_camera_probes_total', () => new Counter({ name: 'warden_edge_camera_probes_total', help: 'camera health probes by outcome', labelNames: ['outcome'], registers: reg })),
    probeSeconds: get('warden_edge_camera_probe_seconds', () => new Histogram({ name: 'warden_edge_camera_probe_seconds', help: 'duration of one camera health probe (ONVIF + RTSP)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3], registers: reg })),
    events: get('warden_edge_camera_events_total', () => new Counter({ name: 'warden_edge_camera_events_total', help: 'camera event notifications by kind (ignored = unknown topic)', labelNames: ['kind'], registers: reg })),
    online: get('warden_edge_cameras_online', () => new Gauge({ name: 'warden_edge_cameras_online', help: 'cameras whose last probes succeeded', registers: reg })),
  };
}

/** Offset of a camera in the cycle, stable for its id. */
export function cycleOffset(id: string, cycleMs: number): number {
  return createHash('sha1').update(id).digest().readUInt32BE(0) % Math.max(1, cycleMs);
}

export class CameraService {
  private readonly cams = new Map<string, Cam>();
  private readonly cycleMs: number;
  private readonly offlineAfter: number;
  private readonly now: () => number;
  private readonly m: ReturnType<typeof metricsFor>;
  private started = false;
  private ticker: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly clock: SoapClock;
  private readonly light: boolean;

  constructor(private readonly o: CameraServiceOptions) {
    this.cycleMs = o.cycleMs ?? 60_000;
    this.offlineAfter = Math.max(1, o.offlineAfter ?? 2);
    this.now = o.now ?? Date.now;
    this.m = metricsFor(o.registry);
    this.light = (o.probeMode ?? 'light') === 'light';
    this.clock = new SoapClock(o.probeTimeoutMs ?? 3000, o.maxSocketsPerHost ?? 8);
    for (const cfg of o.cameras) {
      if (this.cams.has(cfg.id)) throw new Error(`camera ${cfg.id} is configured twice`);
      this.cams.set(cfg.id, {
        cfg,
        client: new OnvifCameraClient({ xaddr: cfg.xaddr, username: cfg.username, password: cfg.password, timeoutMs: o.probeTimeoutMs ?? 3000 }),
        st: { id: cfg.id, online: null, lastGoodProbe: null, lastProbe: null, failures: 0, lastError: null, driftMs: null, device: null, profile: null, streamUri: null, codec: null, events: null },
        snapshotUri: null,
        presets: null,
        events: null,
        dueAt: Infinity,
        probing: null,
        rtsp: null,
        lastDriftSent: null,
        lastReport: null,
        states: new Map(),
        ready: false,
      });
    }
  }

  ids(): string[] {
    return [...this.cams.keys()];
  }

  /**
   * Starts the probe schedule: each camera is due at its offset in the cycle, then once per cycle after its
   * last probe began. One ticker (not one timer per camera) starts the probes that are due, so the cameras
   * of one slot share event-loop turns: with 1,311 cameras the cycle is ~40 slots of ~33 probes.
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    const t0 = performance.now();
    let minCycle = Infinity;
    for (const c of this.cams.values()) {
      const cycle = c.cfg.cycleMs ?? this.cycleMs;
      minCycle = Math.min(minCycle, cycle);
      c.dueAt = t0 + cycleOffset(c.cfg.id, cycle);
    }
    if (this.cams.size === 0) return;
    const tickMs = Math.max(10, Math.min(250, Math.floor(minCycle / 40)));
    this.ticker = setInterval(() => this.tick(), tickMs);
  }

  private tick(): void {
    if (this.stopped) return;
    const t = performance.now();
    for (const c of this.cams.values()) {
      if (c.dueAt > t || c.probing) continue;
      c.dueAt = t + (c.cfg.cycleMs ?? this.cycleMs);
      void this.probe(c.cfg.id);
    }
  }

  /** Probes every camera once, all at once (tests, benchmarks); resolves with each outcome. */
  probeAll(): Promise<ProbeOutcome[]> {
    return Promise.all([...this.cams.keys()].map((id) => this.probe(id)));
  }

  /** One health probe of one camera (joins a probe already running). */
  probe(id: string): Promise<ProbeOutcome> {
    const c = this.cam(id);
    return (c.probing ??= this.doProbe(c).finally(() => (c.probing = null)));
  }

  private async doProbe(c: Cam): Promise<ProbeOutcome> {
    const t0 = performance.now();
    let error: string | null = null;
    try {
      if (!c.ready) await this.connect(c);
      const camTime = this.light
        ? await this.clock.systemTime(c.cfg.xaddr).catch((err: Error) => (err instanceof FastPathMiss ? c.client.systemTime() : Promise.reject(err)))
        : await c.client.systemTime();
      const drift = camTime.getTime() - this.now();
      c.st.driftMs = drift;
      if (this.o.rtsp !== false && c.st.streamUri) {
        if (this.light) {
          c.rtsp ??= new RtspSession(c.st.streamUri, c.cfg.username, c.cfg.password, this.o.probeTimeoutMs ?? 3000);
          try {
            c.st.codec = await c.rtsp.describe();
          } catch (err) {
            c.rtsp.close();
            throw new Error(`RTSP: ${(err as Error).message}`);
          }
        } else {
          const r = await probeRtsp(c.st.streamUri, c.cfg.username, c.cfg.password, this.o.probeTimeoutMs ?? 3000);
          if (!r.ok) throw new Error(`RTSP: ${r.error}`);
          c.st.codec = r.codec;
        }
      }
      if (c.lastDriftSent === null || Math.abs(drift - c.lastDriftSent) >= 1000) {
        c.lastDriftSent = drift;
        this.o.onTelemetry?.(c.cfg.id, { clock_drift_s: Math.round(drift / 1000) }, this.now());
      }
    } catch (err) {
      error = (err as Error).message || String(err);
    }
    const ms = performance.now() - t0;
    this.m.probeSeconds.observe(ms / 1000);
    this.m.probes.inc({ outcome: error ? 'failed' : 'ok' });
    c.st.lastProbe = this.now();
    if (!error) {
      this.report(c);
      c.st.failures = 0;
      c.st.lastError = null;
      c.st.lastGoodProbe = c.st.lastProbe;
      if (c.st.online !== true) this.setOnline(c, true, 'probe ok');
    } else {
      c.st.failures++;
      c.st.lastError = error;
      if (c.st.failures >= (c.cfg.offlineAfter ?? this.offlineAfter) && c.st.online !== false) this.setOnline(c, false, `${c.st.failures} failed probes: ${error}`.slice(0, 120));
    }
    const outcome = { id: c.cfg.id, ok: !error, ms };
    this.o.onProbe?.(outcome);
    return outcome;
  }

  private report(c: Cam): void {
    if (!this.o.onHealthReport) return;
    const p = c.st.profile;
    const r: HealthReport = {
      drift_s: Math.round((c.st.driftMs ?? 0) / 1000),
      ...(p?.width ? { width: p.width } : {}),
      ...(p?.height ? { height: p.height } : {}),
      ...(p?.fps ? { fps: p.fps } : {}),
      ...(c.st.codec ? { codec: c.st.codec.slice(0, 32) } : {}),
    };
    const shape = `${r.width}x${r.height}@${r.fps}/${r.codec}`;
    const t = this.now();
    const last = c.lastReport;
    // Not news: same stream, drift within a second of the last report (whole-second camera clocks flicker
    // by one), and the heartbeat not yet due.
    if (last && last.shape === shape && Math.abs(last.drift - r.drift_s) < 2 && t - last.at < (this.o.healthReportMs ?? 600_000)) return;
    c.lastReport = { shape, drift: r.drift_s, at: t };
    this.o.onHealthReport(c.cfg.id, r, t);
  }

  private setOnline(c: Cam, online: boolean, reason: string): void {
    c.st.online = online;
    this.m.online.set([...this.cams.values()].filter((x) => x.st.online === true).length);
    this.o.logger[online ? 'info' : 'warn']({ camera: c.cfg.id, reason }, online ? 'camera online' : 'camera offline');
    this.o.onAvailability(c.cfg.id, online, reason);
  }

  private async connect(c: Cam): Promise<void> {
    await c.client.connect();
    c.st.device = await c.client.deviceInformation();
    c.st.profile = c.client.mainProfile();
    c.st.streamUri = (await c.client.streamUri()) || null;
    c.snapshotUri = (await c.client.snapshotUri().catch(() => '')) || null;
    c.presets = c.st.profile?.ptz ? await c.client.presets().catch(() => null) : null;
    const p = c.st.profile;
    c.ready = true;
    if (p?.width && p.height) this.o.onTelemetry?.(c.cfg.id, { stream_width: p.width, stream_height: p.height, ...(p.fps ? { stream_fps: p.fps } : {}) }, this.now());
    if (c.cfg.events !== false && !c.events && !this.stopped) {
      c.events = new CameraEventLoop({
        client: c.client,
        pullTimeoutSeconds: this.o.pullTimeoutSeconds,
        pollIntervalMs: this.o.pollIntervalMs,
        retryMs: this.o.eventRetryMs,
        onNotification: (n) => this.notification(c, n),
        onIgnored: () => this.m.events.inc({ kind: 'ignored' }),
        logger: this.o.logger.child({ camera: c.cfg.id, part: 'events' }),
      });
      c.events.start();
    }
  }

  private notification(c: Cam, n: CameraNotification): void {
    this.m.events.inc({ kind: n.kind });
    const prev = c.states.get(n.kind);
    c.states.set(n.kind, n.state);
    // Only changes are news; an initial "no motion" is not.
    if (prev === n.state || (prev === undefined && !n.state)) return;
    const drift = c.st.driftMs ?? 0;
    const ts = n.at !== null ? n.at - drift : this.now();
    this.o.onNotification(c.cfg.id, { ...n, ts });
  }

  /** Go to a PTZ preset by token or name. */
  async gotoPreset(id: string, preset: string): Promise<void> {
    const c = this.cam(id);
    if (!c.ready) await this.connect(c);
    if (!c.st.profile?.ptz) throw new Error(`camera ${id} has no PTZ`);
    c.presets ??= await c.client.presets();
    const token = [...c.presets.values()].includes(preset) ? preset : c.presets.get(preset);
    if (!token) throw new Error(`camera ${id} has no preset ${preset}`);
    await c.client.gotoPreset(token);
  }

  async snapshot(id: string, maxBytes?: number): Promise<Buffer> {
    const c = this.cam(id);
    if (!c.ready) await this.connect(c);
    if (!c.snapshotUri) throw new Error(`camera ${id} has no snapshot URI`);
    return fetchSnapshot(c.snapshotUri, c.cfg.username, c.cfg.password, { maxBytes, timeoutMs: this.o.probeTimeoutMs ?? 3000 });
  }

  status(id?: string): CameraStatus[] {
    const list = id ? [this.cam(id)] : [...this.cams.values()];
    return list.map((c) => ({ ...c.st, events: c.events?.status() ?? null }));
  }

  private cam(id: string): Cam {
    const c = this.cams.get(id);
    if (!c) throw new Error(`unknown camera ${id}`);
    return c;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    await Promise.all([...this.cams.values()].map((c) => c.events?.stop()));
    for (const c of this.cams.values()) {
      c.client.close();
      c.rtsp?.close();
    }
    this.clock.close();
    await Promise.all([...this.cams.values()].map((c) => Promise.all([c.events?.done(), c.probing?.catch(() => {})])));
  }
}
