import type { CameraState, CameraStatus, CameraStatusQuery, Scope } from '@warden/contract';
import { inScope } from '../auth/policy.ts';
import type { DeviceRepo } from '../store/devices.ts';
import type { StoredEvent } from '../store/events.ts';
import type { StateDb } from '../store/state-db.ts';

/**
 * Camera status (issue 10): what the gateways' probes last said about each camera, kept in memory and fed
 * by the events ingest stores — `camera.health` (drift, stream size, codec; sent after a good probe on
 * change and as a heartbeat), `camera.motion` / `camera.tamper`, `device.online` / `device.offline`. At
 * start the newest of each type per camera is read back from the events table (five grouped queries on
 * the type index), so a restart does not forget. The registry (adopted cameras, their place and online
 * flag) is read per request: 1,311 rows from SQLite take a few milliseconds.
 */

const TYPES = ['camera.health', 'camera.motion', 'camera.tamper', 'device.online', 'device.offline'] as const;
type Tracked = (typeof TYPES)[number];

interface Facts {
  driftS: number | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  codec: string | null;
  lastGoodProbe: number | null;
  tampered: boolean;
  tamperTs: number;
  lastEvent: { type: string; ts: number; state?: boolean } | null;
}

const blank = (): Facts => ({ driftS: null, width: null, height: null, fps: null, codec: null, lastGoodProbe: null, tampered: false, tamperTs: 0, lastEvent: null });
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class CameraBoard {
  private readonly facts = new Map<string, Facts>();

  constructor(private readonly devices: DeviceRepo) {}

  /** Reads back the newest event of each tracked type per device. */
  warm(db: StateDb): void {
    const q = db.prepare<[string, string], { device: string; type: string; ts: number; data: string }>(
      `SELECT e.device, e.type, e.ts, e.data FROM events e JOIN (SELECT max(n) AS n FROM events WHERE type = ? GROUP BY device) m ON e.n = m.n WHERE e.type = ?`,
    );
    for (const t of TYPES)
      for (const r of q.all(t, t)) {
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse(r.data) as Record<string, unknown>;
        } catch {
          // a row that is not JSON is skipped (never written by this hub)
        }
        this.apply({ device: r.device, type: r.type, ts: r.ts, data });
      }
  }

  /** One stored event (from the bus); events of other types are ignored. Older than what is known changes nothing. */
  apply(e: Pick<StoredEvent, 'device' | 'type' | 'ts' | 'data'>): void {
    if (!(TYPES as readonly string[]).includes(e.type)) return;
    const type = e.type as Tracked;
    let f = this.facts.get(e.device);
    if (!f) this.facts.set(e.device, (f = blank()));
    if (type === 'camera.health') {
      if (f.lastGoodProbe !== null && e.ts < f.lastGoodProbe) return;
      f.lastGoodProbe = e.ts;
      f.driftS = num(e.data.drift_s);
      f.width = num(e.data.width);
      f.height = num(e.data.height);
      f.fps = num(e.data.fps);
      f.codec = typeof e.data.codec === 'string' ? e.data.codec : null;
      return;
    }
    if (type === 'device.online' && (f.lastGoodProbe === null || e.ts > f.lastGoodProbe)) f.lastGoodProbe = e.ts;
    if (type === 'camera.tamper' && e.ts >= f.tamperTs) {
      f.tamperTs = e.ts;
      f.tampered = e.data.state === true;
    }
    if (!f.lastEvent || e.ts >= f.lastEvent.ts) {
      f.lastEvent = { type, ts: e.ts, ...(typeof e.data.state === 'boolean' ? { state: e.data.state } : {}) };
    }
  }

  /** Adopted cameras in the caller's scope, filtered and paged; counts are over the scope, unfiltered. */
  list(q: CameraStatusQuery, scope: Scope | undefined) {
    const all: CameraStatus[] = [];
    const buildings = new Set<string>();
    const counts = { online: 0, offline: 0, unknown: 0, tampered: 0 };
    for (const d of this.devices.list({ kind: 'camera', status: 'adopted' })) {
      if (!inScope(scope, d)) continue;
      const f = this.facts.get(d.id) ?? blank();
      const state: CameraState = d.lastSeen === null && !d.online ? 'unknown' : d.online ? 'online' : 'offline';
      counts[state]++;
      if (f.tampered) counts.tampered++;
      if (d.building) buildings.add(d.building);
      all.push({
        id: d.id,
        name: d.name,
        gateway: d.gateway,
        building: d.building,
        zone: d.zone,
        state,
        lastGoodProbe: f.lastGoodProbe,
        driftS: f.driftS,
        width: f.width,
        height: f.height,
        fps: f.fps,
        codec: f.codec,
        tampered: f.tampered,
        lastEvent: f.lastEvent,
      });
    }
    const needle = q.q?.trim().toLowerCase();
    const rows = all.filter(
      (c) =>
        (!needle || c.id.toLowerCase().includes(needle) || (c.name ?? '').toLowerCase().includes(needle)) &&
        (!q.building || c.building === q.building) &&
        (!q.state || c.state === q.state) &&
        (q.minDriftS === undefined || (c.driftS !== null && Math.abs(c.driftS) >= q.minDriftS)),
    );
    const offset = q.offset ?? 0;
    const limit = q.limit ?? 100;
    return { cameras: rows.slice(offset, offset + limit), total: rows.length, counts, buildings: [...buildings].sort() };
  }
}
