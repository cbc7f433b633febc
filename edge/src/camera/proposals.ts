import { createHash } from 'node:crypto';
import type { DeviceInfo } from '@warden/contract';
import type { Logger } from 'pino';
import Type, { type Static } from 'typebox';
import { discoverCameras, type DiscoveredCamera } from './discovery.ts';

/** `cameras.discovery` in the edge config. */
export const CamerasSection = Type.Object(
  {
    discovery: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'look for ONVIF cameras by WS-Discovery and propose the unknown ones to the hub' }),
        everySeconds: Type.Integer({ minimum: 10, maximum: 86_400, default: 300, description: 'time between discovery probes' }),
        timeoutMs: Type.Integer({ minimum: 200, maximum: 30_000, default: 3000, description: 'how long one probe waits for answers' }),
        device: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'network interface to probe on (default: the system route)' })),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {}, description: 'ONVIF cameras (issue 10)' },
);
export type CamerasConfig = Static<typeof CamerasSection>;

/** A stable device id for a discovered camera: `cam-` and 12 hex digits of its endpoint reference (urn:uuid). */
export function proposalId(urn: string): string {
  return `cam-${createHash('sha1').update(urn).digest('hex').slice(0, 12)}`;
}

/** A discovered camera as an inventory entry: kind camera, its device service address as location. */
export function toProposal(c: DiscoveredCamera): DeviceInfo {
  const name = [c.name, c.hardware && c.hardware !== c.name ? c.hardware : null].filter(Boolean).join(' · ');
  return {
    id: proposalId(c.urn),
    kind: 'camera',
    driver: 'onvif-camera',
    ...(name ? { name: name.slice(0, 200) } : {}),
    location: c.xaddrs[0]!.slice(0, 200),
  };
}

/** host:port and path of a device service address (scheme and trailing slash ignored). */
const keyOf = (u: string): string | null => {
  try {
    const x = new URL(u);
    return `${x.host}${x.pathname.replace(/\/+$/, '')}`.toLowerCase();
  } catch {
    return null;
  }
};

/**
 * Periodic WS-Discovery on the gateway (issue 10): cameras that answer and are not configured on this gateway
 * (matched by device-service address) are listed in the gateway's inventory as proposals, which the hub keeps
 * as `proposed` until an admin adopts them (console: Device adoption). The gateway talks to a camera only once
 * it is configured with its credentials. `onChange` fires when the proposed set changes.
 */
export class CameraProposals {
  private current: DeviceInfo[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly o: {
      config: CamerasConfig['discovery'];
      /** Device-service addresses of the cameras configured on this gateway. */
      configured: readonly string[];
      onChange(proposals: readonly DeviceInfo[]): void;
      logger: Logger;
      discover?: typeof discoverCameras;
    },
  ) {}

  list(): readonly DeviceInfo[] {
    return this.current;
  }

  start(): void {
    if (!this.o.config.enabled || this.timer || this.stopped) return;
    const tick = (): void => {
      this.running = this.once().finally(() => {
        this.running = null;
        if (!this.stopped) this.timer = setTimeout(tick, this.o.config.everySeconds * 1000).unref();
      });
    };
    tick();
  }

  /** One probe; resolves once the proposals are updated (errors are logged, the old list kept). */
  async once(): Promise<void> {
    try {
      const found = await (this.o.discover ?? discoverCameras)({ timeoutMs: this.o.config.timeoutMs, ...(this.o.config.device ? { device: this.o.config.device } : {}) });
      const known = new Set(this.o.configured.map(keyOf).filter((k): k is string => k !== null));
      const next = found
        .filter((c) => !c.xaddrs.some((x) => known.has(keyOf(x) ?? '')))
        .map(toProposal)
        .sort((a, b) => a.id.localeCompare(b.id));
      const same = next.length === this.current.length && next.every((d, i) => JSON.stringify(d) === JSON.stringify(this.current[i]));
      if (same) return;
      this.current = next;
      this.o.logger.info({ proposals: next.length, found: found.length }, 'camera discovery: proposals changed');
      this.o.onChange(next);
    } catch (err) {
      this.o.logger.warn({ err }, 'camera discovery failed; keeping the previous proposals');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
