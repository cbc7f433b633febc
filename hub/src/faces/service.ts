import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { newId } from '@warden/contract';
import { FacePipeline, decodeImage } from '@warden/models';
import type { AuditLog } from '../audit.ts';
import { HubError } from '../errors.ts';
import type { StateDb } from '../store/state-db.ts';
import type { FacesConfig } from './config.ts';
import { TemplateCipher } from './crypto.ts';
import { migrateLegacyKey, storedKeyIds, templatesByKey } from './keys-rotate.ts';
import { FaceRepo, type Consent, type GatewayScope, type Person } from './repo.ts';
import { GallerySync } from './sync.ts';

export interface PersonInput {
  name: string;
  roles?: string[];
  dorms?: string[];
  buildings?: string[];
  credentials?: string[];
}

export interface ConsentInput {
  /** Who consented (the person, or a guardian). */
  givenBy: string;
  scope: string;
  givenAt?: number;
}

export interface PersonView extends Person {
  templates: number;
  consent: Consent | null;
  consents: Consent[];
}

export interface FaceAdminDeps {
  db: StateDb;
  dataDir: string;
  /** `keys` may be left out (tests): the default key file beside the data dir. */
  config: Omit<FacesConfig, 'keys'> & { keys?: FacesConfig['keys'] };
  audit: AuditLog;
  publish(topic: string, payload: string): Promise<void>;
  isConnected(gateway: string): boolean;
  registry?: Registry;
  log: Logger;
  /** Folder of built models (tests share one). */
  modelsDir?: string;
  /** Where `faces.keys` env sources are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

const DAY = 86_400_000;

/**
 * Enrolment and galleries on the hub: persons, consent, templates computed here with the same pipeline the
 * gateways run (photos are decoded, templated and dropped: never written anywhere), the watch-list,
 * corrections, retention and deletion; every change is audited and synced to the gateways that need it.
 */
export class FaceAdmin {
  readonly repo: FaceRepo;
  readonly sync: GallerySync;
  private readonly cipher: TemplateCipher;
  private pipeline: Promise<FacePipeline> | undefined;
  private readonly now: () => number;
  private readonly rejected: Counter<'reason'>;

  constructor(private readonly d: FaceAdminDeps) {
    this.repo = new FaceRepo(d.db);
    this.cipher = TemplateCipher.open(d.dataDir, d.config.keys, { ...(d.env ? { env: d.env } : {}), storedKeyIds: () => storedKeyIds(d.db) });
    this.checkKeys();
    this.now = d.now ?? Date.now;
    this.sync = new GallerySync({ repo: this.repo, cipher: this.cipher, model: d.config.recogniser, publish: d.publish, isConnected: d.isConnected, log: d.log, clock: this.now });
    this.rejected = new Counter({
      name: 'warden_hub_face_photos_rejected_total',
      help: 'Enrolment photos refused, by reason',
      labelNames: ['reason'],
      registers: d.registry ? [d.registry] : [],
    });
  }

  /**
   * Face keys at start (issue 9): what could not be loaded is logged (the hub runs on: alarms and doors do not
   * need faces), templates of the legacy in-data key are moved to the current key, and templates whose key is
   * missing (a restored copy of the data without its key) are named, never read.
   */
  private checkKeys(): void {
    const { log } = this.d;
    for (const problem of this.cipher.ring.problems) log.error({ problem }, 'face key not available');
    try {
      migrateLegacyKey({ db: this.d.db, dataDir: this.d.dataDir, cipher: this.cipher, audit: this.d.audit, log });
    } catch (err) {
      log.error({ err: (err as Error).message }, 'face templates of the legacy key were not migrated');
    }
    const missing = Object.entries(templatesByKey(this.d.db)).filter(([k]) => !this.cipher.canOpen({ keyId: k === 'legacy' ? null : k }));
    for (const [k, n] of missing) log.error({ keyId: k, templates: n }, `face templates unreadable: key id ${k} missing (${n} templates); restore the key or configure it in faces.keys`);
    const old = Object.entries(templatesByKey(this.d.db)).filter(([k]) => k !== this.cipher.currentId && this.cipher.canOpen({ keyId: k === 'legacy' ? null : k }));
    for (const [k, n] of old) log.warn({ keyId: k, templates: n }, 'face templates under a previous key: run `warden faces rotate-key`');
  }

  /** Where the face keys stand: the current key id, what could not be loaded, templates per key id. */
  keyStatus(): { current: string | null; problems: string[]; templates: Record<string, number> } {
    return { current: this.cipher.currentId, problems: [...this.cipher.ring.problems], templates: templatesByKey(this.d.db) };
  }

  private getPipeline(): Promise<FacePipeline> {
    // Loaded on first enrolment: a hub that never enrols faces never loads the models.
    this.pipeline ??= FacePipeline.create({ recogniser: this.d.config.recogniser, liveness: false, ...(this.d.modelsDir ? { buildDir: this.d.modelsDir } : {}) });
    return this.pipeline;
  }

  view(p: Person): PersonView {
    const consents = this.repo.consents(p.id);
    return { ...p, templates: this.repo.templateCount(p.id), consent: consents.find((c) => c.withdrawnAt === null) ?? null, consents };
  }

  list(): PersonView[] {
    return this.repo.persons().map((p) => this.view(p));
  }

  get(id: string): PersonView {
    const p = this.repo.person(id);
    if (!p) throw new HubError('not_found', `person ${id}`);
    return this.view(p);
  }

  private checkCredentials(credentials: readonly string[], self?: string): void {
    for (const c of credentials) {
      const owner = this.repo.credentialOwner(c);
      if (owner !== undefined && owner !== self) throw new HubError('bad_request', `credential ${c} already belongs to another person`);
    }
  }

  async create(actor: string, input: PersonInput): Promise<PersonView> {
    const at = this.now();
    const credentials = [...new Set(input.credentials ?? [])];
    this.checkCredentials(credentials);
    const p: Person = {
      id: newId(),
      name: input.name,
      roles: input.roles ?? [],
      dorms: input.dorms ?? [],
      buildings: input.buildings ?? [],
      credentials,
      watchlist: false,
      watchlistNote: null,
      leftAt: null,
      createdAt: at,
      updatedAt: at,
    };
    this.repo.insertPerson(p);
    this.d.audit.record(actor, 'face.person_create', p.id, { roles: p.roles, dorms: p.dorms, buildings: p.buildings, credentials: credentials.length });
    await this.sync.changed([p.id]);
    return this.view(p);
  }

  async update(actor: string, id: string, input: Partial<PersonInput>): Promise<PersonView> {
    const p = this.get(id);
    if (input.credentials) this.checkCredentials(input.credentials, id);
    const next: Person = {
      ...p,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.roles ? { roles: input.roles } : {}),
      ...(input.dorms ? { dorms: input.dorms } : {}),
      ...(input.buildings ? { buildings: input.buildings } : {}),
      ...(input.credentials ? { credentials: [...new Set(input.credentials)] } : {}),
      updatedAt: this.now(),
    };
    this.repo.updatePerson(next);
    this.d.audit.record(actor, 'face.person_update', id, { fields: Object.keys(input) });
    await this.sync.changed([id]);
    return this.view(next);
  }

  /**
   * Templates from photos. Consent is required (given now or already on record). Each photo must hold exactly
   * one face that passes the quality gate; a refused photo is named in the error and nothing is stored.
   */
  async enrol(actor: string, id: string, photos: readonly Buffer[], consent?: ConsentInput): Promise<PersonView> {
    const p = this.get(id);
    if (p.leftAt !== null) throw new HubError('bad_request', `person ${id} has left; enrol them again as a new person`);
    if (!consent && !this.repo.activeConsent(id)) throw new HubError('bad_request', 'face enrolment needs a consent record: pass consent { givenBy, scope }');
    if (photos.length === 0 || photos.length > this.d.config.maxPhotos) throw new HubError('bad_request', `send 1 to ${this.d.config.maxPhotos} photos`);
    const noKey = this.cipher.unavailable();
    if (noKey) throw new HubError('face_key_unavailable', noKey);
    const pipeline = await this.getPipeline();
    const templates: Float32Array[] = [];
    for (const [i, bytes] of photos.entries()) {
      let faces;
      try {
        faces = await pipeline.analyse(decodeImage(bytes), { maxFaces: 2 });
      } catch (err) {
        this.rejected.inc({ reason: 'undecodable' });
        throw new HubError('bad_request', `photo ${i + 1}: not a PNG or JPEG image (${(err as Error).message})`);
      }
      if (faces.length === 0) {
        this.rejected.inc({ reason: 'no_face' });
        throw new HubError('bad_request', `photo ${i + 1}: no face found`);
      }
      // A second good face nearly as large as the first means we cannot tell whose photo it is.
      if (faces.length > 1 && faces[1]!.quality.ok && faces[1]!.box.width > faces[0]!.box.width * 0.6) {
        this.rejected.inc({ reason: 'several_faces' });
        throw new HubError('bad_request', `photo ${i + 1}: more than one face`);
      }
      const face = faces[0]!;
      if (!face.quality.ok || !face.embedding) {
        this.rejected.inc({ reason: 'quality' });
        throw new HubError('bad_request', `photo ${i + 1}: face refused by the quality gate (${face.quality.reasons.join(', ')})`);
      }
      templates.push(face.embedding);
    }
    const at = this.now();
    this.d.db.transaction(() => {
      if (consent) this.repo.addConsent({ person: id, givenBy: consent.givenBy, givenAt: consent.givenAt ?? at, scope: consent.scope, recordedBy: actor });
      for (const t of templates) this.repo.addTemplate(id, this.d.config.recogniser, this.cipher.seal(id, t), at);
    })();
    if (consent) this.d.audit.record(actor, 'face.consent_record', id, { givenBy: consent.givenBy, scope: consent.scope });
    this.d.audit.record(actor, 'face.enrol', id, { photos: photos.length, templates: templates.length, model: this.d.config.recogniser });
    await this.sync.changed([id]);
    return this.get(id);
  }

  /** Face use stops at once on every gateway (templates are no longer sent); stored templates go after the retention period. */
  async withdrawConsent(actor: string, id: string): Promise<PersonView> {
    this.get(id);
    const n = this.repo.withdrawConsent(id, actor, this.now());
    if (n === 0) throw new HubError('bad_request', `person ${id} has no consent to withdraw`);
    this.d.audit.record(actor, 'face.consent_withdraw', id, {});
    await this.sync.changed([id]);
    return this.get(id);
  }

  /** The person left: removed from every gateway now; templates deleted after the retention period. */
  async leave(actor: string, id: string): Promise<PersonView> {
    const p = this.get(id);
    this.repo.updatePerson({ ...p, leftAt: this.now(), updatedAt: this.now() });
    this.d.audit.record(actor, 'face.person_leave', id, {});
    await this.sync.changed([id]);
    return this.get(id);
  }

  async remove(actor: string, id: string): Promise<void> {
    this.get(id);
    this.repo.deletePerson(id);
    this.d.audit.record(actor, 'face.person_delete', id, {});
    await this.sync.changed([id]);
  }

  async setWatchlist(actor: string, id: string, on: boolean, note?: string): Promise<PersonView> {
    const p = this.get(id);
    this.repo.updatePerson({ ...p, watchlist: on, watchlistNote: on ? (note ?? null) : null, updatedAt: this.now() });
    this.d.audit.record(actor, on ? 'face.watchlist_add' : 'face.watchlist_remove', id, note ? { note } : {});
    await this.sync.changed([id]);
    return this.get(id);
  }

  /**
   * "Not this person": the sighting's match is recorded as wrong, and that person's threshold at that point is
   * raised just above the score that misidentified them, so the same look-alike no longer matches them there.
   */
  async correct(actor: string, eventId: string, note?: string): Promise<{ correction: number; person: string; device: string; threshold: number }> {
    const ev = this.repo.event(eventId);
    if (!ev) throw new HubError('not_found', `event ${eventId}`);
    const person = typeof ev.data.person === 'string' ? ev.data.person : undefined;
    if (!person || (ev.data.method !== undefined && ev.data.method !== 'face') || !['face.sighting', 'face.watchlist', 'access.granted', 'attendance.checkin'].includes(ev.type)) {
      throw new HubError('bad_request', `event ${eventId} (${ev.type}) is not a face match of a person`);
    }
    if (!this.repo.person(person)) throw new HubError('not_found', `person ${person} (deleted since?)`);
    const score = typeof ev.data.score === 'number' ? ev.data.score : null;
    // Without a score (access.granted carries none) the threshold goes to a level only a near-identical face reaches.
    const threshold = Math.min(1, score === null ? 0.99 : score + 0.01);
    this.repo.raiseThreshold(person, ev.device, threshold);
    const correction = this.repo.addCorrection({ eventId, person, device: ev.device, score, threshold, actor, note: note ?? null, ts: this.now() });
    this.d.audit.record(actor, 'face.correct', person, { event: eventId, device: ev.device, score, threshold });
    await this.sync.changed([person]);
    return { correction, person, device: ev.device, threshold };
  }

  async setScope(actor: string, scope: GatewayScope): Promise<void> {
    this.repo.setScope(scope);
    this.d.audit.record(actor, 'face.gateway_scope', scope.gateway, { dorms: scope.dorms, buildings: scope.buildings, watchlist: scope.watchlist });
    await this.sync.scopeChanged(scope.gateway);
  }

  /** Deletes the templates of persons who left or withdrew consent more than retentionDays ago; returns their ids. */
  async retention(): Promise<string[]> {
    const ids = this.repo.expired(this.now() - this.d.config.retentionDays * DAY);
    for (const id of ids) {
      const n = this.repo.deleteTemplates(id);
      this.d.audit.record('retention', 'face.templates_expired', id, { templates: n, retentionDays: this.d.config.retentionDays });
    }
    if (ids.length) await this.sync.changed(ids);
    return ids;
  }

  /** May this user enrol or change this person? admin always; a dorm manager only for residents of their dorms. */
  mayManage(user: { username: string; roles: readonly string[] }, dorms: readonly string[]): boolean {
    if (user.roles.includes('admin')) return true;
    if (!user.roles.includes('dorm')) return false;
    const mine = this.d.config.dormManagers[user.username] ?? [];
    return dorms.length > 0 && dorms.every((d) => mine.includes(d));
  }

  async close(): Promise<void> {
    const p = this.pipeline;
    this.pipeline = undefined;
    if (p) await (await p).close().catch(() => {});
  }
}
