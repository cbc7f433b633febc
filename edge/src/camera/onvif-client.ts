import { Agent } from 'node:http';
import { createRequire } from 'node:module';
import type * as Onvif from 'onvif';

/**
 * The gateway's side of one ONVIF camera, over the `onvif` npm client: connection (GetSystemDateAndTime,
 * GetServices or GetCapabilities, GetProfiles, GetVideoSources), device information, stream and snapshot
 * URIs, PTZ presets, the camera clock, and PullPoint calls. Callbacks become promises; every request has
 * a timeout and goes through one keep-alive agent per camera, destroyed on close (which also ends a long
 * PullMessages in flight).
 */

const require = createRequire(import.meta.url);
const onvif = require('onvif') as typeof Onvif;

export interface CameraEndpoint {
  /** The device service address, e.g. http://10.1.2.3/onvif/device_service. */
  xaddr: string;
  username: string;
  password: string;
  /** Per-request timeout (not for long PullMessages, which add their own wait). */
  timeoutMs?: number;
}

export interface DeviceDetails {
  manufacturer: string;
  model: string;
  firmware: string;
  serial: string;
}

export interface StreamProfile {
  token: string;
  name: string;
  encoding: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  ptz: boolean;
}

export interface PullPointSubscription {
  address: string;
  /** Camera clock minus gateway clock when created (the subscription's times are camera times). */
  terminationAt: number;
}

/** A raw ONVIF notification as the client parses it (see notifications.ts). */
export type RawNotification = Record<string, unknown>;

type Cb<T> = (err: Error | null, data?: T, xml?: string) => void;
// The client's request primitive (used for PullMessages with a Timeout of our choosing; its own pullMessages always asks PT1M).
interface CamInternals {
  _request(o: { url?: unknown; body: string; replyTimeout?: number }, cb: Cb<unknown>): void;
  _envelopeHeader(open?: boolean): string;
  _envelopeFooter(): string;
  events: { subscription?: { subscriptionReference: { address: { href: string } } } };
  activeSource?: { profileToken: string; width?: number | string; height?: number | string; encoding?: string; fps?: number | string; ptz?: unknown };
  profiles?: Array<Record<string, unknown>>;
  uri?: Record<string, unknown>;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : null);

function call<T>(fn: (cb: Cb<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      fn((err, data) => (err ? reject(err) : resolve(data as T)));
    } catch (err) {
      reject(err as Error);
    }
  });
}

export class OnvifCameraClient {
  readonly cam: Onvif.Cam;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly inner: CamInternals;
  private closed = false;

  constructor(readonly endpoint: CameraEndpoint) {
    const u = new URL(endpoint.xaddr);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`camera address ${endpoint.xaddr} is not http(s)`);
    this.cam = new onvif.Cam({
      hostname: u.hostname,
      port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
      path: u.pathname,
      useSecure: u.protocol === 'https:',
      username: endpoint.username,
      password: endpoint.password,
      timeout: endpoint.timeoutMs ?? 5000,
      autoconnect: false,
      agent: this.agent,
    });
    this.inner = this.cam as unknown as CamInternals;
    // The client emits 'warning' for media it could not read; without a listener that is harmless,
    // but an 'error' without a listener would throw.
    this.cam.on('error', () => {});
    this.cam.on('warning', () => {});
  }

  /** GetSystemDateAndTime, GetServices (or GetCapabilities), GetProfiles, GetVideoSources. */
  connect(): Promise<void> {
    return call<void>((cb) => this.cam.connect(cb as Onvif.ConnectionCallback));
  }

  connected(): boolean {
    return this.inner.uri !== undefined && this.inner.activeSource !== undefined;
  }

  /** The camera's clock (UTC, whole seconds). Unauthenticated on most cameras: also the cheap liveness probe. */
  systemTime(): Promise<Date> {
    return call<Date>((cb) => this.cam.getSystemDateAndTime(cb as never));
  }

  async deviceInformation(): Promise<DeviceDetails> {
    const d = await call<Record<string, unknown>>((cb) => this.cam.getDeviceInformation(cb as never));
    return { manufacturer: str(d.manufacturer), model: str(d.model), firmware: str(d.firmwareVersion), serial: str(d.serialNumber) };
  }

  /** The profile the client picked for the first video source (tokens, resolution, PTZ). */
  mainProfile(): StreamProfile | null {
    const a = this.inner.activeSource;
    if (!a) return null;
    const p = (this.inner.profiles ?? []).find((x) => (x.$ as { token?: unknown } | undefined)?.token === a.profileToken);
    return {
      token: str(a.profileToken),
      name: str(p?.name) || str(a.profileToken),
      encoding: a.encoding ? str(a.encoding) : null,
      width: num(a.width),
      height: num(a.height),
      fps: num(a.fps),
      ptz: a.ptz !== undefined && this.inner.uri?.ptz !== undefined,
    };
  }

  async streamUri(): Promise<string> {
    const r = await call<{ uri?: unknown }>((cb) => this.cam.getStreamUri({ protocol: 'RTSP' }, cb as never));
    return str(r.uri);
  }

  async snapshotUri(): Promise<string> {
    const r = await call<{ uri?: unknown }>((cb) => this.cam.getSnapshotUri({}, cb as never));
    return str(r.uri);
  }

  /** Preset name -> token. */
  async presets(): Promise<Map<string, string>> {
    const r = await call<Record<string, { $?: { token?: unknown } }>>((cb) => this.cam.getPresets({}, cb as never));
    return new Map(Object.entries(r).map(([name, p]) => [name, str(p.$?.token)]));
  }

  gotoPreset(token: string): Promise<void> {
    return call<void>((cb) => this.cam.gotoPreset({ preset: token }, cb as never));
  }

  async createPullPoint(): Promise<PullPointSubscription> {
    const s = await call<{ subscriptionReference: { address: { href: string } }; currentTime: Date; terminationTime: Date }>((cb) =>
      this.cam.createPullPointSubscription(cb as never),
    );
    return { address: s.subscriptionReference.address.href, terminationAt: Date.now() + (s.terminationTime.getTime() - s.currentTime.getTime()) };
  }

  /**
   * PullMessages with our own Timeout (the client's own pullMessages always asks PT1M, which some
   * cameras refuse); resolves with the notifications and the subscription's new termination.
   */
  pull(timeoutSeconds: number, limit = 20): Promise<{ messages: RawNotification[]; terminationAt: number | null }> {
    const address = this.inner.events.subscription?.subscriptionReference.address;
    if (!address) return Promise.reject(new Error('no PullPoint subscription'));
    const body =
      this.inner._envelopeHeader(true) +
      `<a:To>${address.href}</a:To></s:Header>` +
      '<s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
      `<PullMessages xmlns="http://www.onvif.org/ver10/events/wsdl"><Timeout>PT${Math.max(0, Math.round(timeoutSeconds))}S</Timeout><MessageLimit>${limit}</MessageLimit></PullMessages>` +
      this.inner._envelopeFooter();
    return new Promise((resolve, reject) => {
      this.inner._request({ url: address, body, replyTimeout: (timeoutSeconds + 10) * 1000 }, (err, data) => {
        if (err) return reject(err);
        try {
          const r = linerase(data) as { pullMessagesResponse?: { notificationMessage?: unknown; currentTime?: unknown; terminationTime?: unknown } };
          const res = r.pullMessagesResponse;
          if (!res) return reject(new Error('PullMessages answer without PullMessagesResponse'));
          const list = res.notificationMessage === undefined ? [] : Array.isArray(res.notificationMessage) ? res.notificationMessage : [res.notificationMessage];
          const cur = res.currentTime instanceof Date ? res.currentTime.getTime() : null;
          const term = res.terminationTime instanceof Date ? res.terminationTime.getTime() : null;
          resolve({ messages: list as RawNotification[], terminationAt: cur !== null && term !== null ? Date.now() + (term - cur) : null });
        } catch (e) {
          reject(e as Error);
        }
      });
    });
  }

  /** Renew; resolves with the new termination (gateway clock). */
  async renew(): Promise<number | null> {
    const r = await call<{ currentTime?: unknown; terminationTime?: unknown }>((cb) => this.cam.renew({}, cb as never));
    return r && r.currentTime instanceof Date && r.terminationTime instanceof Date ? Date.now() + (r.terminationTime.getTime() - r.currentTime.getTime()) : null;
  }

  /** Best effort: the subscription is forgotten locally whatever the camera answers. */
  async unsubscribe(): Promise<void> {
    if (!this.inner.events.subscription) return;
    await call<void>((cb) => this.cam.unsubscribe(cb as never, true)).catch(() => {});
    delete this.inner.events.subscription;
  }

  hasSubscription(): boolean {
    return this.inner.events.subscription !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
  }
}

const utilsLinerase = (require('onvif/lib/utils') as { linerase(x: unknown): unknown }).linerase;
function linerase(x: unknown): unknown {
  return utilsLinerase(x);
}
