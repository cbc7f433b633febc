import type { DeviceInfo, RejectReason } from '@warden/contract';
import type { StateDb } from './state-db.ts';

export interface DeviceView {
  id: string;
  gateway: string;
  kind: string;
  driver: string;
  name: string | null;
  building: string | null;
  zone: string | null;
  location: string | null;
  medium: string | null;
  online: boolean;
  lastSeen: number | null;
}

interface Row {
  id: string;
  gateway: string;
  kind: string;
  driver: string;
  name: string | null;
  building: string | null;
  zone: string | null;
  location: string | null;
  medium: string | null;
  online: number;
  last_seen: number | null;
}

const view = (r: Row): DeviceView => ({
  id: r.id,
  gateway: r.gateway,
  kind: r.kind,
  driver: r.driver,
  name: r.name,
  building: r.building,
  zone: r.zone,
  location: r.location,
  medium: r.medium,
  online: r.online === 1,
  lastSeen: r.last_seen,
});

export interface InventoryOutcome {
  added: string[];
  updated: string[];
  removed: string[];
  refused: Array<{ id: string; reason: RejectReason; detail: string }>;
}

export interface DeviceFilter {
  gateway?: string;
  kind?: string;
  building?: string;
}

const COLS = 'id, gateway, kind, driver, name, building, zone, location, medium, online, last_seen';

/**
 * The device registry. Which gateway owns which device is asked for every uplink record, so it is kept
 * in memory as well; SQLite stays the source of truth and the map is rebuilt from it at start-up.
 */
export class DeviceRepo {
  private readonly owners = new Map<string, string>();
  private readonly q;
  constructor(private readonly db: StateDb) {
    this.q = {
      get: db.prepare<[string], Row>(`SELECT ${COLS} FROM devices WHERE id = ?`),
      all: db.prepare<[], { id: string; gateway: string }>('SELECT id, gateway FROM devices'),
      ofGateway: db.prepare<[string], { id: string }>('SELECT id FROM devices WHERE gateway = ?'),
      upsert: db.prepare(
        `INSERT INTO devices (id, gateway, kind, driver, name, building, zone, location, medium, updated_at)
         VALUES (@id, @gateway, @kind, @driver, @name, @building, @zone, @location, @medium, @now)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, driver = excluded.driver, name = excluded.name,
           building = excluded.building, zone = excluded.zone, location = excluded.location, medium = excluded.medium,
           updated_at = excluded.updated_at`,
      ),
      remove: db.prepare('DELETE FROM devices WHERE id = ?'),
      availability: db.prepare('UPDATE devices SET online = ?, last_seen = max(coalesce(last_seen, 0), ?) WHERE id = ?'),
      touch: db.prepare('UPDATE devices SET last_seen = max(coalesce(last_seen, 0), ?) WHERE id = ?'),
    };
    for (const r of this.q.all.all()) this.owners.set(r.id, r.gateway);
  }

  /** The gateway a device is registered to, if any. */
  owner(id: string): string | undefined {
    return this.owners.get(id);
  }

  get(id: string): DeviceView | null {
    const r = this.q.get.get(id);
    return r ? view(r) : null;
  }

  list(f: DeviceFilter = {}): DeviceView[] {
    const where: string[] = [];
    const args: string[] = [];
    if (f.gateway) (where.push('gateway = ?'), args.push(f.gateway));
    if (f.kind) (where.push('kind = ?'), args.push(f.kind));
    if (f.building) (where.push('building = ?'), args.push(f.building));
    const sql = `SELECT ${COLS} FROM devices ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return this.db.prepare<string[], Row>(sql).all(...args).map(view);
  }

  /**
   * A gateway's retained inventory is the whole truth about its devices. With autoRegister the registry follows
   * it (new devices adopted, dropped ones released); without, only devices already registered to the gateway are
   * updated. A device registered to another gateway is never taken over: that gateway must drop it first.
   */
  applyInventory(gateway: string, devices: readonly DeviceInfo[], autoRegister: boolean, now: number): InventoryOutcome {
    const out: InventoryOutcome = { added: [], updated: [], removed: [], refused: [] };
    const run = this.db.transaction(() => {
      const listed = new Set<string>();
      for (const d of devices) {
        if (listed.has(d.id)) {
          out.refused.push({ id: d.id, reason: 'schema_invalid', detail: `device ${d.id} is listed twice in the inventory` });
          continue;
        }
        listed.add(d.id);
        const owner = this.owners.get(d.id);
        if (owner !== undefined && owner !== gateway) {
          out.refused.push({ id: d.id, reason: 'wrong_gateway', detail: `device ${d.id} is registered to gateway ${owner}` });
          continue;
        }
        if (owner === undefined && !autoRegister) {
          out.refused.push({ id: d.id, reason: 'unknown_device', detail: `device ${d.id} is not registered and autoRegister is off` });
          continue;
        }
        this.q.upsert.run({
          id: d.id,
          gateway,
          kind: d.kind,
          driver: d.driver,
          name: d.name ?? null,
          building: d.building ?? null,
          zone: d.zone ?? null,
          location: d.location ?? null,
          medium: d.medium ?? null,
          now,
        });
        (owner === undefined ? out.added : out.updated).push(d.id);
      }
      if (autoRegister) {
        for (const { id } of this.q.ofGateway.all(gateway)) {
          if (listed.has(id)) continue;
          this.q.remove.run(id);
          out.removed.push(id);
        }
      }
    });
    run();
    for (const id of out.added) this.owners.set(id, gateway);
    for (const id of out.removed) this.owners.delete(id);
    return out;
  }

  /** Returns the device when its availability changed (for the live feed), else null. */
  setAvailability(id: string, online: boolean, ts: number): DeviceView | null {
    const before = this.q.get.get(id);
    if (!before) return null;
    this.q.availability.run(online ? 1 : 0, ts, id);
    return (before.online === 1) === online ? null : this.get(id);
  }

  touch(id: string, ts: number): void {
    this.q.touch.run(ts, id);
  }
}
