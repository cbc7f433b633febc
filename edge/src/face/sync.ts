import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { GalleryDeltaSchema, compile, decodeTemplate, parseJson, type GalleryDelta, type RejectReason } from '@warden/contract';
import type { PointPolicy } from './decide.ts';
import type { Gallery, Match } from './gallery.ts';

const deltaV = compile(GalleryDeltaSchema);

export interface GallerySyncOptions {
  gatewayId: string;
  gallery: Gallery;
  /** The recogniser this gateway runs; deltas made with another are refused. */
  model: string;
  /** Writes the encrypted gallery file (FaceService.save). */
  save(): Promise<void>;
  /** Version and per-point thresholds, beside the gallery file (no templates, no names). */
  stateFile: string;
  /** The gallery file was just created empty: whatever the state file says, this gateway holds nothing. */
  freshGallery?: boolean;
  refuse(reason: RejectReason, fields: Record<string, unknown>, msg: string): void;
  registry: Registry;
  logger: Logger;
}

interface SyncState {
  version: number;
  thresholds: Record<string, Record<string, number>>;
}

export type ApplyResult = 'applied' | 'partial' | 'stale' | 'refused';

/**
 * A point's policy for a match: the person's raised threshold at this point (an operator's "not this person"
 * correction) replaces the point's own when it is higher.
 */
export function policyForMatch(policy: PointPolicy, raised: number | undefined): PointPolicy {
  return raised !== undefined && raised > policy.threshold ? { ...policy, threshold: raised } : policy;
}

/**
 * Gateway side of gallery sync (protocol: contract/src/gallery.ts). Applies the hub's deltas to the local
 * gallery, saves the encrypted gallery file and then the version, and reports that version in the status the
 * hub link publishes. Applying a person is "replace the whole entry", so a delta applied twice changes nothing.
 */
export class GallerySyncClient {
  private state: SyncState;
  private readonly applied: Counter<'result'>;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: GallerySyncOptions) {
    this.state = existsSync(o.stateFile) && !o.freshGallery ? (JSON.parse(readFileSync(o.stateFile, 'utf8')) as SyncState) : { version: 0, thresholds: {} };
    this.applied = new Counter({ name: 'warden_edge_gallery_deltas_total', help: 'Gallery deltas from the hub, by result', labelNames: ['result'], registers: [o.registry] });
  }

  get version(): number {
    return this.state.version;
  }

  /** For the status heartbeat. */
  status(): { version: number; model: string } {
    return { version: this.state.version, model: this.o.model };
  }

  /** The raised threshold for this person at this point, if an operator corrected a match there. */
  threshold(person: string, device: string): number | undefined {
    return this.state.thresholds[person]?.[device];
  }

  /** Applies one message from `.../gallery`; messages are applied one at a time in arrival order. */
  handle(payload: Buffer): Promise<ApplyResult> {
    const next = this.chain.then(() => this.apply(payload));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private refuse(reason: RejectReason, detail: string): ApplyResult {
    this.applied.inc({ result: 'refused' });
    this.o.refuse(reason, { topic: 'gallery', detail: detail.slice(0, 300) }, 'gallery delta refused');
    return 'refused';
  }

  private async apply(payload: Buffer): Promise<ApplyResult> {
    const parsed = parseJson(payload);
    if (!parsed.ok) return this.refuse('malformed_json', parsed.detail);
    if (!deltaV.check(parsed.value)) return this.refuse('schema_invalid', deltaV.explain(parsed.value));
    const d: GalleryDelta = parsed.value;
    if (d.gw !== this.o.gatewayId) return this.refuse('schema_invalid', `delta for gateway ${d.gw}`);
    if (d.model !== this.o.model) return this.refuse('schema_invalid', `templates from ${d.model}, this gateway runs ${this.o.model}`);
    // Another base: a delta sent before our last status reached the hub, or a redelivered old one (even a
    // reset: replaying its first part would clear what later parts added); the next status gets the right one.
    if (d.base !== this.state.version) {
      this.applied.inc({ result: 'stale' });
      return 'stale';
    }
    const g = this.o.gallery;
    let templates: Float32Array[][];
    try {
      templates = d.upsert.map((p) => p.templates.map((t) => decodeTemplate(t)));
      for (const ts of templates)
        for (const t of ts) {
          if (t.length !== g.dimensions) throw new Error(`template has ${t.length} values, the gallery holds ${g.dimensions}`);
          // Checked here, before anything is applied, so a bad template refuses the whole delta (found by fuzzing).
          let sq = 0;
          for (const v of t) sq += v * v;
          if (!(sq > 0) || !Number.isFinite(sq)) throw new Error('template is all zeros or not finite');
        }
    } catch (err) {
      return this.refuse('schema_invalid', (err as Error).message);
    }
    if (d.reset && d.part === 1) {
      for (const p of g.snapshot().persons) g.remove(p.id);
      this.state.thresholds = {};
    }
    for (const id of d.revoke) {
      g.revoke(id);
      delete this.state.thresholds[id];
    }
    d.upsert.forEach((p, i) => {
      // The hub decides who belongs here: an earlier revocation does not outlive a new enrolment.
      g.restore(p.id);
      g.remove(p.id);
      g.upsertPerson(p.id, { watchlist: p.watchlist, credentials: p.credentials });
      for (const t of templates[i]!) g.addTemplate(p.id, t);
      if (Object.keys(p.thresholds).length) this.state.thresholds[p.id] = p.thresholds;
      else delete this.state.thresholds[p.id];
    });
    await this.o.save();
    const done = d.part === d.parts;
    if (done) this.state.version = d.to;
    await this.writeState();
    this.applied.inc({ result: done ? 'applied' : 'partial' });
    if (done) this.o.logger.info({ version: d.to, upserts: d.upsert.length, revokes: d.revoke.length, reset: d.reset, persons: g.personCount }, 'gallery updated from the hub');
    else this.o.logger.debug({ part: d.part, parts: d.parts }, 'gallery delta part applied');
    return done ? 'applied' : 'partial';
  }

  private async writeState(): Promise<void> {
    const tmp = `${this.o.stateFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.state), { mode: 0o600 });
    await rename(tmp, this.o.stateFile);
  }

  idle(): Promise<unknown> {
    return this.chain;
  }
}
