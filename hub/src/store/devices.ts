import { Counter, type Registry } from 'prom-client';
import type { DeviceInfo, RejectReason } from '@warden/contract';
import type { StateDb } from './state-db.ts';

/**
 * adopted: registered by the hub (config or an admin), its kind/building/zone are the hub's. proposed: only listed by a
 * gateway's inventory. rejected: a proposal an admin refused (a row in device_rejections; the devices row keeps
 * status 'proposed', i.e. not adopted, and the view reports 'rejected').
 */
export type DeviceStatus = 'adopted' | 'proposed' | 'rejected';

/** A device the hub registers itself (hub config `devices`, or an admin adopting it). */
export interface DeviceRegistration {
  id: string;
  gateway: string;
  kind: string;
  building?: string | null | undefined;
  zone?: string | null | undefined;
  name?: string | null | undefined;
  location?: string | null | undefined;
}

export interface DeviceView {
  id: string;
  status: DeviceStatus;
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
  /** Present when status is 'rejected'. */
  rejection?: DeviceRejection;
}

/** Who rejected a proposal, when and why. */
export interface DeviceRejection {
  reason: string;
  by: string;
  at: number;
}

interface Row {
  id: string;
  status: DeviceStatus;
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
  rejected_reason: string | null;
  rejected_by: string | null;
  rejected_at: number | null;
}

const view = (r: Row): DeviceView => ({
  id: r.id,
  status: r.status,
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
  ...(r.status === 'rejected' ? { rejection: { reason: r.rejected_reason ?? '', by: r.rejected_by ?? '', at: r.rejected_at ?? 0 } } : {}),
});

export interface InventoryOutcome {
  added: string[];
  updated: string[];
  removed: string[];
  /** New devices the inventory proposed (they wait for adoption). */
  proposed: string[];
  refused: Array<{ id: string; reason: RejectReason; detail: string }>;
  /**
   * Rejected devices listed again within a day of the listing that was dead-lettered: refused as well (neither
   * proposed nor dropped) but only counted (warden_hub_inventory_rejected_total{outcome="repeated"}), not dead-lettered.
   */
  repeated: string[];
}

/** A rejected device listed again is dead-lettered once per rejection, then at most once per this (hub clock). */
export const REJECTED_NOTE_INTERVAL_MS = 86_400_000;

export interface DeviceFilter {
  gateway?: string;
  kind?: string;
  building?: string;
  status?: DeviceStatus;
}

// A device with a row in device_rejections is 'rejected' (such a row exists only while the device is not adopted).
const COLS = `d.id, CASE WHEN r.device IS NULL THEN d.status ELSE 'rejected' END AS status, d.gateway, d.kind, d.driver, d.name,
  d.building, d.zone, d.location, d.medium, d.online, d.last_seen, r.reason AS rejected_reason, r.by AS rejected_by, r.at AS rejected_at`;
const FROM = 'devices d LEFT JOIN device_rejections r ON r.device = d.id';

/**
 * The device registry. Which gateway owns which device is asked for every uplink record, so it is kept
 * in memory as well; SQLite stays the source of truth and the map is rebuilt from it at start-up.
 */
export class DeviceRepo {
  private readonly owners = new Map<string, string>();
  /** Adopted devices and their registered kind (what safety events are checked against). */
  private readonly adopted = new Map<string, string>();
  /** Proposals an admin rejected: their gateway's inventories no longer propose them (nor drop them). */
  private readonly rejected = new Set<string>();
  /** warden_hub_inventory_rejected_total{outcome}: inventory listings of rejected devices (when given a registry). */
  private readonly listedRejected: Counter<'outcome'> | undefined;
  private readonly q;
  constructor(
    private readonly db: StateDb,
    registry?: Registry,
  ) {
    // Trust (issue 9): the registry is the hub's. Rows that came from inventories before the status column existed
    // become proposals (the hub config's devices.registry adopts them again at start). Idempotent.
    const columns = db.prepare<[], { name: string }>('PRAGMA table_info(devices)').all();
    if (!columns.some((c) => c.name === 'status')) {
      db.exec(`ALTER TABLE devices ADD COLUMN status TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('adopted', 'proposed'))`);
    }
    // Rejected proposals (kept beside the devices row, whose status CHECK predates them). Idempotent.
    db.exec(`CREATE TABLE IF NOT EXISTS device_rejections (
      device TEXT PRIMARY KEY,
      gateway TEXT NOT NULL,
      reason TEXT NOT NULL,
      by TEXT NOT NULL,
      at INTEGER NOT NULL
    )`);
    // When a listing of the rejected device was last dead-lettered (null: not since the rejection). Idempotent.
    if (!db.prepare<[], { name: string }>('PRAGMA table_info(device_rejections)').all().some((c) => c.name === 'noted_at')) {
      db.exec('ALTER TABLE device_rejections ADD COLUMN noted_at INTEGER');
    }
    if (registry) {
      this.listedRejected = new Counter({
        name: 'warden_hub_inventory_rejected_total',
        help: 'Inventory listings of devices an admin rejected, by outcome: dead_lettered (the first after the rejection, then once a day), repeated (only counted)',
        labelNames: ['outcome'] as const,
        registers: [registry],
      });
      for (const outcome of ['dead_lettered', 'repeated'] as const) this.listedRejected.inc({ outcome }, 0);
    }
    this.q = {
      get: db.prepare<[string], Row>(`SELECT ${COLS} FROM ${FROM} WHERE d.id = ?`),
      all: db.prepare<[], { id: string; gateway: string; status: DeviceStatus; kind: string }>('SELECT id, gateway, status, kind FROM devices'),
      ofGateway: db.prepare<[string], { id: string }>('SELECT id FROM devices WHERE gateway = ?'),
      // A proposal (inventory of a device the hub has not adopted): everything as the gateway says.
      propose: db.prepare(
        `INSERT INTO devices (id, status, gateway, kind, driver, name, building, zone, location, medium, updated_at)
         VALUES (@id, 'proposed', @gateway, @kind, @driver, @name, @building, @zone, @location, @medium, @now)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, driver = excluded.driver, name = excluded.name,
           building = excluded.building, zone = excluded.zone, location = excluded.location, medium = excluded.medium,
           updated_at = excluded.updated_at WHERE devices.status = 'proposed'`,
      ),
      // An adopted device's inventory entry: the gateway reports its driver and medium; kind, building, zone, name and
      // location stay the hub's.
      refresh: db.prepare(`UPDATE devices SET driver = @driver, medium = @medium, updated_at = @now WHERE id = @id AND status = 'adopted'`),
      register: db.prepare(
        `INSERT INTO devices (id, status, gateway, kind, driver, name, building, zone, location, medium, updated_at)
         VALUES (@id, 'adopted', @gateway, @kind, @driver, @name, @building, @zone, @location, NULL, @now)
         ON CONFLICT(id) DO UPDATE SET status = 'adopted', gateway = excluded.gateway, kind = excluded.kind,
           name = coalesce(excluded.name, devices.name), building = excluded.building, zone = excluded.zone,
           location = coalesce(excluded.location, devices.location), updated_at = excluded.updated_at`,
      ),
      remove: db.prepare('DELETE FROM devices WHERE id = ?'),
      reject: db.prepare('INSERT INTO device_rejections (device, gateway, reason, by, at) VALUES (@device, @gateway, @reason, @by, @at)'),
      unreject: db.prepare('DELETE FROM device_rejections WHERE device = ?'),
      allRejected: db.prepare<[], { device: string }>('SELECT device FROM device_rejections'),
      rejectionNotedAt: db.prepare<[string], { noted_at: number | null }>('SELECT noted_at FROM device_rejections WHERE device = ?'),
      noteRejection: db.prepare('UPDATE device_rejections SET noted_at = ? WHERE device = ?'),
      availability: db.prepare('UPDATE devices SET online = ?, last_seen = max(coalesce(last_seen, 0), ?) WHERE id = ?'),
      touch: db.prepare('UPDATE devices SET last_seen = max(coalesce(last_seen, 0), ?) WHERE id = ?'),
    };
    for (const r of this.q.all.all()) {
      this.owners.set(r.id, r.gateway);
      if (r.status === 'adopted') this.adopted.set(r.id, r.kind);
    }
    for (const r of this.q.allRejected.all()) this.rejected.add(r.device);
  }

  /** The registered kind of an adopted device; undefined for unknown and proposed devices. */
  adoptedKind(id: string): string | undefined {
    return this.adopted.get(id);
  }

  /**
   * Registers (adopts) a device as the hub's own: from the hub config at start, or an admin adopting a proposal.
   * Kind, building and zone are the hub's from then on; a gateway's inventory cannot change them.
   */
  register(r: DeviceRegistration, now: number): DeviceView {
    const before = this.q.get.get(r.id);
    if (this.rejected.delete(r.id)) this.q.unreject.run(r.id);
    this.q.register.run({
      id: r.id,
      gateway: r.gateway,
      kind: r.kind,
      driver: before?.driver ?? r.kind,
      name: r.name ?? null,
      building: r.building ?? null,
      zone: r.zone ?? null,
      location: r.location ?? null,
      now,
    });
    this.owners.set(r.id, r.gateway);
    this.adopted.set(r.id, r.kind);
    return this.get(r.id)!;
  }

  /**
   * An admin refuses a proposed device. Its row stays (so its records are still refused as not adopted, and its
   * gateway's inventories neither propose it again nor drop it) until unreject() or register() (adoption).
   * Returns null for an unknown device; throws DeviceStateError for an adopted or already rejected one.
   */
  reject(id: string, reason: string, by: string, now: number): DeviceView | null {
    const before = this.q.get.get(id);
    if (!before) return null;
    if (before.status !== 'proposed') throw new DeviceStateError(`device ${id} is ${before.status}; only a proposed device can be rejected`);
    this.q.reject.run({ device: id, gateway: before.gateway, reason, by, at: now });
    this.rejected.add(id);
    return this.get(id);
  }

  /** Undoes a rejection: the device is a proposal again. Null for an unknown device; DeviceStateError when not rejected. */
  unreject(id: string): DeviceView | null {
    const before = this.q.get.get(id);
    if (!before) return null;
    if (before.status !== 'rejected') throw new DeviceStateError(`device ${id} is ${before.status}, not rejected`);
    this.q.unreject.run(id);
    this.rejected.delete(id);
    return this.get(id);
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
    if (f.gateway) (where.push('d.gateway = ?'), args.push(f.gateway));
    if (f.kind) (where.push('d.kind = ?'), args.push(f.kind));
    if (f.building) (where.push('d.building = ?'), args.push(f.building));
    // Rejected devices are listed only when asked for: they are not part of the campus (alarm linkage, cameras of a
    // zone, the gateways a scoped user sees and the console's device lists all read this list without a status).
    if (f.status === 'rejected') where.push('r.device IS NOT NULL');
    else if (f.status) (where.push('d.status = ? AND r.device IS NULL'), args.push(f.status));
    else where.push('r.device IS NULL');
    const sql = `SELECT ${COLS} FROM ${FROM} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.id`;
    return this.db.prepare<string[], Row>(sql).all(...args).map(view);
  }

  /**
   * A gateway's retained inventory only PROPOSES devices: a device the hub does not know is kept as 'proposed' (with
   * what the gateway says about it) until an admin adopts it, and its records are refused meanwhile. For an adopted
   * device the inventory updates only its driver and medium: kind, building and zone are the hub's, and an attempt to
   * change them is refused (reason relabel_refused). Without autoRegister unknown devices are not even proposed.
   * A device registered to another gateway is never taken over. A device an admin rejected is not proposed again:
   * the entry is refused (device_not_adopted, naming who rejected it and why) until an admin un-rejects or adopts it.
   * Proposals the gateway no longer lists are dropped; adopted and rejected devices stay (the hub's decisions).
   */
  applyInventory(gateway: string, devices: readonly DeviceInfo[], autoRegister: boolean, now: number): InventoryOutcome {
    const out: InventoryOutcome = { added: [], updated: [], removed: [], proposed: [], refused: [], repeated: [] };
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
        const row = this.q.get.get(d.id);
        if (row?.status === 'rejected') {
          // Gateways re-send their inventory on every connect and discovery: one dead letter per rejection (then per
          // day) says it is still listed; the listings in between are only counted.
          const noted = this.q.rejectionNotedAt.get(d.id)?.noted_at ?? null;
          if (noted !== null && now >= noted && now - noted < REJECTED_NOTE_INTERVAL_MS) {
            out.repeated.push(d.id);
            continue;
          }
          this.q.noteRejection.run(now, d.id);
          out.refused.push({
            id: d.id,
            reason: 'device_not_adopted',
            detail: `device ${d.id} was rejected by ${row.rejected_by} (${JSON.stringify(row.rejected_reason)}); gateway ${gateway}'s inventory may propose it again only after an admin un-rejects it (further listings within a day are only counted: warden_hub_inventory_rejected_total{outcome="repeated"})`,
          });
          continue;
        }
        if (row?.status === 'adopted') {
          const changed = (['kind', 'building', 'zone'] as const).filter((k) => d[k] !== undefined && (d[k] ?? null) !== row[k]);
          if (changed.length) {
            out.refused.push({
              id: d.id,
              reason: 'relabel_refused',
              detail: `inventory of ${gateway} tried to change adopted device ${d.id}'s ${changed.map((k) => `${k} ${JSON.stringify(row[k])} -> ${JSON.stringify(d[k])}`).join(', ')}`,
            });
          }
          this.q.refresh.run({ id: d.id, driver: d.driver, medium: d.medium ?? null, now });
          out.updated.push(d.id);
          continue;
        }
        this.q.propose.run({
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
        (owner === undefined ? out.proposed : out.updated).push(d.id);
      }
      for (const { id } of this.q.ofGateway.all(gateway)) {
        if (listed.has(id) || this.adopted.has(id) || this.rejected.has(id)) continue;
        this.q.remove.run(id);
        out.removed.push(id);
      }
    });
    run();
    const deadLettered = out.refused.filter((r) => r.reason === 'device_not_adopted' && this.rejected.has(r.id)).length;
    if (deadLettered) this.listedRejected?.inc({ outcome: 'dead_lettered' }, deadLettered);
    if (out.repeated.length) this.listedRejected?.inc({ outcome: 'repeated' }, out.repeated.length);
    for (const id of out.proposed) this.owners.set(id, gateway);
    for (const id of out.removed) {
      this.owners.delete(id);
      this.adopted.delete(id);
    }
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

/** The device is not in the state the operation needs (rejecting an adopted device, un-rejecting a proposal). */
export class DeviceStateError extends Error {
  override readonly name = 'DeviceStateError';
}
