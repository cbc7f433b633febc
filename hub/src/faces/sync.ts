import type { Logger } from 'pino';
import { CONTRACT_VERSION, RateLimitedLog, encodeTemplate, gatewayTopic, validateStatus, type GalleryDelta, type GalleryPersonEntry } from '@warden/contract';
import type { TemplateCipher } from './crypto.ts';
import type { FaceRepo, GatewayScope, Person } from './repo.ts';

// Keeps one delta message well under the broker's packet limit (1 MiB by default).
const MAX_PART_BYTES = 256 * 1024;

export interface GallerySyncDeps {
  repo: FaceRepo;
  cipher: TemplateCipher;
  model: string;
  publish(topic: string, payload: string): Promise<void>;
  isConnected(gateway: string): boolean;
  log: Logger;
  /** The hub clock (when a gateway last acknowledged its version). */
  clock?: () => number;
}

export interface GatewayGalleryState {
  gateway: string;
  version: number;
  acked: number | null;
  ackedAt: number | null;
  members: number;
}

/** Whether a gateway's gallery needs a person: residents of its dorms, members of its buildings, the watch-list where it watches. */
export function wants(scope: GatewayScope, p: Person): boolean {
  if (p.leftAt !== null) return false;
  if (p.watchlist && scope.watchlist) return true;
  return p.dorms.some((d) => scope.dorms.includes(d)) || p.buildings.some((b) => scope.buildings.includes(b));
}

/**
 * Hub side of gallery sync (protocol in contract/src/gallery.ts). Each gateway with a face scope has a
 * version; every change to a person it holds (or should now hold, or no longer) appends (version, person)
 * to its log. A delta from version V lists each person logged after V once, with their current entry or a
 * revocation, so deletion and removal from scope reach the gateway exactly like an update.
 */
export class GallerySync {
  private readonly rlog: RateLimitedLog;
  private readonly lastSent = new Map<string, number>();

  constructor(private readonly d: GallerySyncDeps) {
    this.rlog = new RateLimitedLog(d.log);
  }

  private version(gateway: string): number {
    return this.d.repo.db.prepare<[string], { version: number }>('SELECT version FROM face_gallery_state WHERE gateway = ?').get(gateway)?.version ?? 0;
  }

  states(): GatewayGalleryState[] {
    return this.d.repo.scopes().map((s) => {
      const r = this.d.repo.db
        .prepare<[string], { version: number; acked: number | null; acked_at: number | null }>('SELECT version, acked, acked_at FROM face_gallery_state WHERE gateway = ?')
        .get(s.gateway);
      const members = this.d.repo.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM face_gallery_members WHERE gateway = ?').get(s.gateway)!.n;
      return { gateway: s.gateway, version: r?.version ?? 0, acked: r?.acked ?? null, ackedAt: r?.acked_at ?? null, members };
    });
  }

  /** Person ids a gateway's gallery holds now. */
  members(gateway: string): string[] {
    return this.d.repo.db.prepare<[string], { person: string }>('SELECT person FROM face_gallery_members WHERE gateway = ? ORDER BY person').all(gateway).map((r) => r.person);
  }

  /**
   * Records that these persons changed (created, updated, deleted: a missing person is a deletion) for every
   * gateway that held them or should now, then pushes the deltas to connected gateways.
   */
  async changed(personIds: readonly string[], onlyGateway?: string): Promise<void> {
    const db = this.d.repo.db;
    const touched = new Set<string>();
    db.transaction(() => {
      for (const scope of this.d.repo.scopes()) {
        if (onlyGateway !== undefined && scope.gateway !== onlyGateway) continue;
        let v = this.version(scope.gateway);
        const start = v;
        for (const id of personIds) {
          const p = this.d.repo.person(id);
          const held = db.prepare('SELECT 1 FROM face_gallery_members WHERE gateway = ? AND person = ?').get(scope.gateway, id) !== undefined;
          const want = p !== undefined && wants(scope, p);
          if (!held && !want) continue;
          v++;
          db.prepare('INSERT INTO face_gallery_log (gateway, version, person) VALUES (?, ?, ?)').run(scope.gateway, v, id);
          if (want && !held) db.prepare('INSERT INTO face_gallery_members (gateway, person) VALUES (?, ?)').run(scope.gateway, id);
          if (!want && held) db.prepare('DELETE FROM face_gallery_members WHERE gateway = ? AND person = ?').run(scope.gateway, id);
        }
        if (v !== start) {
          db.prepare('INSERT INTO face_gallery_state (gateway, version) VALUES (?, ?) ON CONFLICT(gateway) DO UPDATE SET version = excluded.version').run(scope.gateway, v);
          touched.add(scope.gateway);
        }
      }
    })();
    for (const gw of touched) {
      const from = this.lastSent.get(gw) ?? this.acked(gw);
      if (from !== null && this.d.isConnected(gw)) await this.send(gw, from);
    }
  }

  /** A gateway's scope changed: every person is re-checked for it. */
  async scopeChanged(gateway: string): Promise<void> {
    const ids = new Set([...this.d.repo.persons().map((p) => p.id), ...this.members(gateway)]);
    await this.changed([...ids], gateway);
  }

  private acked(gateway: string): number | null {
    return this.d.repo.db.prepare<[string], { acked: number | null }>('SELECT acked FROM face_gallery_state WHERE gateway = ?').get(gateway)?.acked ?? null;
  }

  /** A gateway's status: it says which version it holds; anything else gets the delta from there. */
  async onStatus(gateway: string, payload: Buffer): Promise<void> {
    let status: unknown;
    try {
      status = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // the ingestor counts and logs malformed status; nothing to add here
    }
    const checked = validateStatus(status);
    if (!checked.ok || checked.value.state !== 'online' || !checked.value.gallery) return;
    if (!this.d.repo.scopes().some((s) => s.gateway === gateway)) return;
    const held = checked.value.gallery;
    if (held.model !== undefined && held.model !== this.d.model) {
      this.rlog.warn(`model:${gateway}`, { gateway, gatewayModel: held.model, hubModel: this.d.model }, 'gateway runs another recogniser than the hub; its gallery is not synced');
      return;
    }
    this.d.repo.db
      .prepare('INSERT INTO face_gallery_state (gateway, version, acked, acked_at) VALUES (?, 0, ?, ?) ON CONFLICT(gateway) DO UPDATE SET acked = excluded.acked, acked_at = excluded.acked_at')
      .run(gateway, held.version, (this.d.clock ?? Date.now)());
    if (held.version !== this.version(gateway)) await this.send(gateway, held.version);
  }

  /** Deltas taking a gateway from `from` to the current version (one or more parts). */
  deltas(gateway: string, from: number): GalleryDelta[] {
    const to = this.version(gateway);
    // A gateway ahead of the hub (hub data restored from an older backup) or new to sync starts over.
    const reset = from === 0 || from > to;
    const ids = reset
      ? this.members(gateway)
      : this.d.repo.db
          .prepare<[string, number], { person: string }>('SELECT DISTINCT person FROM face_gallery_log WHERE gateway = ? AND version > ? ORDER BY person')
          .all(gateway, from)
          .map((r) => r.person);
    const members = new Set(this.members(gateway));
    const upsert: GalleryPersonEntry[] = [];
    const revoke: string[] = [];
    for (const id of ids) {
      const p = members.has(id) ? this.d.repo.person(id) : undefined;
      if (p) upsert.push(this.entry(p));
      else revoke.push(id);
    }
    const parts: Array<{ upsert: GalleryPersonEntry[]; revoke: string[] }> = [{ upsert: [], revoke }];
    let size = revoke.reduce((n, id) => n + id.length + 3, 0);
    for (const e of upsert) {
      const n = JSON.stringify(e).length;
      if (size + n > MAX_PART_BYTES && parts[parts.length - 1]!.upsert.length > 0) {
        parts.push({ upsert: [], revoke: [] });
        size = 0;
      }
      parts[parts.length - 1]!.upsert.push(e);
      size += n;
    }
    return parts.map((p, i) => ({ v: CONTRACT_VERSION, gw: gateway, base: from, to, reset, part: i + 1, parts: parts.length, model: this.d.model, ...p }));
  }

  /** What a gateway is sent for a person: templates only while consent stands. */
  entry(p: Person): GalleryPersonEntry {
    const consented = this.d.repo.activeConsent(p.id) !== undefined;
    const templates = consented ? this.d.repo.templates(p.id, this.d.model).map((s) => encodeTemplate(this.d.cipher.open(p.id, s))) : [];
    return { id: p.id, watchlist: p.watchlist, credentials: p.credentials, templates, thresholds: this.d.repo.thresholds(p.id) };
  }

  private async send(gateway: string, from: number): Promise<void> {
    let deltas: GalleryDelta[];
    try {
      deltas = this.deltas(gateway, from);
    } catch (err) {
      // Templates sealed under a key the hub does not hold (a restored copy of the data without its key): nothing
      // is sent, so the gateway keeps what it has rather than being told its persons have no face.
      this.rlog.warn(`unreadable:${gateway}`, { gateway, err: (err as Error).message }, 'gallery delta not sent: face templates unreadable');
      return;
    }
    try {
      for (const d of deltas) await this.d.publish(gatewayTopic(gateway, 'gallery'), JSON.stringify(d));
      this.lastSent.set(gateway, deltas[0]!.to);
    } catch (err) {
      this.rlog.warn(`send:${gateway}`, { gateway, err: (err as Error).message }, 'could not send a gallery delta; the next status retries');
    }
  }
}
