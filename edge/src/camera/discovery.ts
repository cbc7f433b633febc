import { createRequire } from 'node:module';
import type * as Onvif from 'onvif';

/**
 * WS-Discovery (multicast Probe for NetworkVideoTransmitter on 239.255.255.250:3702) through the
 * `onvif` client, without letting it connect to what answered (resolve: false: an unauthenticated
 * connect would count as a failed login on every camera). Found cameras are proposals: an admin adopts
 * one (gives it an id and credentials) before the gateway talks to it.
 */

const require = createRequire(import.meta.url);
const onvif = require('onvif') as typeof Onvif;

export interface DiscoveredCamera {
  /** Endpoint reference, e.g. urn:uuid:...; stable across restarts and address changes. */
  urn: string;
  /** Device service addresses it announced. */
  xaddrs: string[];
  name: string | null;
  hardware: string | null;
  ptz: boolean;
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof obj(v)._ === 'string' ? (obj(v)._ as string) : '');

function scope(scopes: string[], key: string): string | null {
  const prefix = `onvif://www.onvif.org/${key}/`;
  const s = scopes.find((x) => x.startsWith(prefix));
  if (!s) return null;
  try {
    return decodeURIComponent(s.slice(prefix.length));
  } catch {
    return s.slice(prefix.length);
  }
}

/** Turns one ProbeMatches answer (as the client parses it) into a proposal; null when unusable. */
export function parseProbeMatch(raw: unknown): DiscoveredCamera | null {
  const m = obj(obj(obj(raw).probeMatches).probeMatch);
  const urn = str(obj(m.endpointReference).address);
  const xaddrs = str(m.XAddrs)
    .split(/\s+/)
    .filter((x) => /^https?:\/\//.test(x));
  if (!urn || xaddrs.length === 0) return null;
  const scopes = str(m.scopes).split(/\s+/);
  return { urn, xaddrs, name: scope(scopes, 'name'), hardware: scope(scopes, 'hardware'), ptz: scopes.includes('onvif://www.onvif.org/type/ptz') };
}

// The client's Discovery is one process-wide emitter: probes run one at a time.
let queue: Promise<unknown> = Promise.resolve();

export function discoverCameras(o: { timeoutMs?: number; device?: string } = {}): Promise<DiscoveredCamera[]> {
  const run = (): Promise<DiscoveredCamera[]> =>
    new Promise((resolve, reject) => {
      const found = new Map<string, DiscoveredCamera>();
      const onDevice = (raw: unknown): void => {
        const c = parseProbeMatch(raw);
        if (c && !found.has(c.urn)) found.set(c.urn, c);
      };
      // Unreadable answers are reported as 'error' events; without a listener the emitter would throw.
      const onError = (): void => {};
      onvif.Discovery.on('device', onDevice);
      onvif.Discovery.on('error', onError);
      onvif.Discovery.probe({ resolve: false, timeout: o.timeoutMs ?? 3000, ...(o.device ? { device: o.device } : {}) }, (err) => {
        onvif.Discovery.removeListener('device', onDevice);
        onvif.Discovery.removeListener('error', onError);
        // The callback's error is the list of unreadable answers; a socket error is fatal.
        if (err && !Array.isArray(err)) return reject(err);
        resolve([...found.values()]);
      });
    });
  const p = queue.then(run, run);
  queue = p.catch(() => undefined);
  return p;
}
