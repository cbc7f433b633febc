import type { Logger } from 'pino';
import { Counter } from 'prom-client';
import type { LinkageMessage, Snapshot } from '@warden/contract';
import type { HubBus } from '../live/bus.ts';
import type { StoredEvent } from '../store/events.ts';
import type { VideoConfig } from '../video/config.ts';
import { SnapshotError, SnapshotSource } from './fetch.ts';
import type { SnapshotStore } from './store.ts';

const FACE_EVENTS = new Set(['face.sighting', 'face.stranger', 'face.watchlist']);
export const SNAPSHOT_OUTCOMES = ['stored', 'no_source', 'onvif', 'http', 'auth', 'too_large', 'not_jpeg', 'timeout', 'store_failed'] as const;

/**
 * Takes snapshots when they matter: a `linkage` message `cameras.show` (an alarm named cameras) → one of each named
 * camera, linked to the alarm; a face event from a terminal listed in `video.snapshots.faceCameras` → one of its
 * camera, linked to the event. The hub fetches directly from the camera (it already pulls their RTSP for live
 * video); at most `concurrency` fetches run at once, the rest queue. Each outcome is counted; a failure is logged,
 * never thrown into the bus.
 */
export class SnapshotCapture {
  private readonly sources = new Map<string, SnapshotSource>();
  private readonly queue: Array<() => Promise<void>> = [];
  private running = 0;
  private idle: Array<() => void> = [];
  private readonly outcomes: Counter<'cause' | 'outcome'>;
  private stopped = false;
  private readonly onLinkage = (m: LinkageMessage) => {
    if (m.action !== 'cameras.show' || !this.cfg.snapshots.onAlarm) return;
    for (const camera of m.cameras ?? m.devices) this.enqueue(camera, { cause: 'alarm', alarmId: m.alarmId });
  };
  private readonly onEvent = (e: StoredEvent) => {
    if (!FACE_EVENTS.has(e.type) || !this.cfg.snapshots.onFace) return;
    const camera = this.cfg.snapshots.faceCameras[e.device];
    if (camera) this.enqueue(camera, { cause: 'face', eventId: e.id });
  };

  constructor(
    private readonly d: { cfg: VideoConfig; store: SnapshotStore; bus: HubBus; log: Logger; clock: () => number; registry: import('prom-client').Registry; onStored?(s: Snapshot): void },
  ) {
    this.outcomes = new Counter({
      name: 'warden_hub_snapshots_total',
      help: 'Camera snapshots attempted, by cause (alarm, face) and outcome (stored, or why not)',
      labelNames: ['cause', 'outcome'] as const,
      registers: [d.registry],
    });
    for (const cause of ['alarm', 'face']) for (const outcome of SNAPSHOT_OUTCOMES) this.outcomes.inc({ cause, outcome }, 0);
    d.bus.on('linkage', this.onLinkage);
    d.bus.on('event', this.onEvent);
  }

  private get cfg(): VideoConfig {
    return this.d.cfg;
  }

  /** Resolves when no fetch is queued or running (tests, stop). */
  settled(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.d.bus.off('linkage', this.onLinkage);
    this.d.bus.off('event', this.onEvent);
    this.queue.length = 0;
    await this.settled();
    for (const s of this.sources.values()) s.close();
  }

  private enqueue(camera: string, link: { cause: 'alarm'; alarmId: string } | { cause: 'face'; eventId: string }): void {
    if (this.stopped) return;
    const src = this.cfg.cameras[camera];
    if (!src?.onvif) {
      this.outcomes.inc({ cause: link.cause, outcome: 'no_source' });
      this.d.log.debug({ camera }, 'snapshot: camera has no onvif service in video.cameras');
      return;
    }
    let source = this.sources.get(camera);
    if (!source) {
      source = new SnapshotSource({ ...src, onvif: src.onvif }, { timeoutMs: this.cfg.snapshots.timeoutSeconds * 1000, maxBytes: this.cfg.snapshots.maxBytes });
      this.sources.set(camera, source);
    }
    const s = source;
    // The time of the trigger, not of the fetch's end: what the camera showed when it happened.
    const ts = this.d.clock();
    this.queue.push(async () => {
      let jpeg: Buffer;
      try {
        jpeg = await s.fetch();
      } catch (err) {
        const outcome = err instanceof SnapshotError ? err.reason : 'http';
        this.outcomes.inc({ cause: link.cause, outcome });
        this.d.log.warn({ camera, ...link, outcome, err: (err as Error).message }, 'snapshot: not taken');
        return;
      }
      try {
        const snap = this.d.store.add({ camera, ts, jpeg, ...link });
        this.outcomes.inc({ cause: link.cause, outcome: 'stored' });
        this.d.log.info({ camera, ...link, id: snap.id, bytes: snap.bytes }, 'snapshot: stored');
        this.d.onStored?.(snap);
      } catch (err) {
        this.outcomes.inc({ cause: link.cause, outcome: 'store_failed' });
        this.d.log.error({ err, camera }, 'snapshot: could not be stored');
      }
    });
    this.pump();
  }

  private pump(): void {
    while (this.running < this.cfg.snapshots.concurrency && this.queue.length) {
      const job = this.queue.shift()!;
      this.running++;
      void job().finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) for (const r of this.idle.splice(0)) r();
      });
    }
  }
}
