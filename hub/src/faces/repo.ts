import type { StateDb } from '../store/state-db.ts';
import type { SealedTemplate } from './crypto.ts';

export interface Person {
  id: string;
  name: string;
  roles: string[];
  dorms: string[];
  buildings: string[];
  credentials: string[];
  watchlist: boolean;
  watchlistNote: string | null;
  leftAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface Consent {
  id: number;
  person: string;
  givenBy: string;
  givenAt: number;
  scope: string;
  recordedBy: string;
  withdrawnAt: number | null;
  withdrawnBy: string | null;
}

export interface GatewayScope {
  gateway: string;
  dorms: string[];
  buildings: string[];
  watchlist: boolean;
}

interface PersonRow {
  id: string;
  name: string;
  roles: string;
  dorms: string;
  buildings: string;
  credentials: string;
  watchlist: number;
  watchlist_note: string | null;
  left_at: number | null;
  created_at: number;
  updated_at: number;
}

const person = (r: PersonRow): Person => ({
  id: r.id,
  name: r.name,
  roles: JSON.parse(r.roles) as string[],
  dorms: JSON.parse(r.dorms) as string[],
  buildings: JSON.parse(r.buildings) as string[],
  credentials: JSON.parse(r.credentials) as string[],
  watchlist: r.watchlist === 1,
  watchlistNote: r.watchlist_note,
  leftAt: r.left_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

interface ConsentRow {
  id: number;
  person: string;
  given_by: string;
  given_at: number;
  scope: string;
  recorded_by: string;
  withdrawn_at: number | null;
  withdrawn_by: string | null;
}
const consent = (r: ConsentRow): Consent => ({
  id: r.id,
  person: r.person,
  givenBy: r.given_by,
  givenAt: r.given_at,
  scope: r.scope,
  recordedBy: r.recorded_by,
  withdrawnAt: r.withdrawn_at,
  withdrawnBy: r.withdrawn_by,
});

/** SQL for persons, consent, sealed templates, thresholds, corrections and gateway scopes. */
export class FaceRepo {
  constructor(readonly db: StateDb) {}

  persons(): Person[] {
    return this.db.prepare<[], PersonRow>('SELECT * FROM face_persons ORDER BY name, id').all().map(person);
  }

  person(id: string): Person | undefined {
    const r = this.db.prepare<[string], PersonRow>('SELECT * FROM face_persons WHERE id = ?').get(id);
    return r ? person(r) : undefined;
  }

  credentialOwner(credential: string): string | undefined {
    return this.persons().find((p) => p.credentials.includes(credential))?.id;
  }

  insertPerson(p: Person): void {
    this.db
      .prepare('INSERT INTO face_persons (id, name, roles, dorms, buildings, credentials, watchlist, watchlist_note, left_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(p.id, p.name, JSON.stringify(p.roles), JSON.stringify(p.dorms), JSON.stringify(p.buildings), JSON.stringify(p.credentials), p.watchlist ? 1 : 0, p.watchlistNote, p.leftAt, p.createdAt, p.updatedAt);
  }

  updatePerson(p: Person): void {
    this.db
      .prepare('UPDATE face_persons SET name = ?, roles = ?, dorms = ?, buildings = ?, credentials = ?, watchlist = ?, watchlist_note = ?, left_at = ?, updated_at = ? WHERE id = ?')
      .run(p.name, JSON.stringify(p.roles), JSON.stringify(p.dorms), JSON.stringify(p.buildings), JSON.stringify(p.credentials), p.watchlist ? 1 : 0, p.watchlistNote, p.leftAt, p.updatedAt, p.id);
  }

  /** Everything about a person except the audit trail and the sync log (which holds only the id). */
  deletePerson(id: string): void {
    this.db.prepare('DELETE FROM face_templates WHERE person = ?').run(id);
    this.db.prepare('DELETE FROM face_thresholds WHERE person = ?').run(id);
    this.db.prepare('DELETE FROM face_consents WHERE person = ?').run(id);
    this.db.prepare('DELETE FROM face_persons WHERE id = ?').run(id);
  }

  consents(personId: string): Consent[] {
    return this.db.prepare<[string], ConsentRow>('SELECT * FROM face_consents WHERE person = ? ORDER BY id').all(personId).map(consent);
  }

  activeConsent(personId: string): Consent | undefined {
    return this.consents(personId).find((c) => c.withdrawnAt === null);
  }

  addConsent(c: Omit<Consent, 'id' | 'withdrawnAt' | 'withdrawnBy'>): void {
    this.db.prepare('INSERT INTO face_consents (person, given_by, given_at, scope, recorded_by) VALUES (?, ?, ?, ?, ?)').run(c.person, c.givenBy, c.givenAt, c.scope, c.recordedBy);
  }

  withdrawConsent(personId: string, by: string, at: number): number {
    return this.db.prepare('UPDATE face_consents SET withdrawn_at = ?, withdrawn_by = ? WHERE person = ? AND withdrawn_at IS NULL').run(at, by, personId).changes;
  }

  templates(personId: string, model: string): SealedTemplate[] {
    return this.db.prepare<[string, string], SealedTemplate>('SELECT iv, tag, data, key_id AS keyId FROM face_templates WHERE person = ? AND model = ? ORDER BY id').all(personId, model);
  }

  templateCount(personId: string): number {
    return this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM face_templates WHERE person = ?').get(personId)!.n;
  }

  addTemplate(personId: string, model: string, s: SealedTemplate, at: number): void {
    this.db.prepare('INSERT INTO face_templates (person, model, iv, tag, data, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(personId, model, s.iv, s.tag, s.data, s.keyId, at);
  }

  deleteTemplates(personId: string): number {
    return this.db.prepare('DELETE FROM face_templates WHERE person = ?').run(personId).changes;
  }

  thresholds(personId: string): Record<string, number> {
    const rows = this.db.prepare<[string], { device: string; threshold: number }>('SELECT device, threshold FROM face_thresholds WHERE person = ?').all(personId);
    return Object.fromEntries(rows.map((r) => [r.device, r.threshold]));
  }

  raiseThreshold(personId: string, device: string, threshold: number): void {
    this.db
      .prepare('INSERT INTO face_thresholds (person, device, threshold) VALUES (?, ?, ?) ON CONFLICT(person, device) DO UPDATE SET threshold = max(threshold, excluded.threshold)')
      .run(personId, device, threshold);
  }

  addCorrection(c: { eventId: string; person: string; device: string; score: number | null; threshold: number; actor: string; note: string | null; ts: number }): number {
    return Number(
      this.db
        .prepare('INSERT INTO face_corrections (event_id, person, device, score, threshold, actor, note, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(c.eventId, c.person, c.device, c.score, c.threshold, c.actor, c.note, c.ts).lastInsertRowid,
    );
  }

  event(id: string): { id: string; device: string; gateway: string; type: string; data: Record<string, unknown> } | undefined {
    const r = this.db.prepare<[string], { id: string; device: string; gateway: string; type: string; data: string }>('SELECT id, device, gateway, type, data FROM events WHERE id = ?').get(id);
    return r ? { ...r, data: JSON.parse(r.data) as Record<string, unknown> } : undefined;
  }

  /** Persons who left or withdrew consent before `cutoff` and still have templates. */
  expired(cutoff: number): string[] {
    return this.db
      .prepare<[number, number], { id: string }>(
        `SELECT p.id FROM face_persons p WHERE EXISTS (SELECT 1 FROM face_templates t WHERE t.person = p.id)
           AND ((p.left_at IS NOT NULL AND p.left_at <= ?)
             OR (NOT EXISTS (SELECT 1 FROM face_consents c WHERE c.person = p.id AND c.withdrawn_at IS NULL)
                 AND EXISTS (SELECT 1 FROM face_consents c WHERE c.person = p.id AND c.withdrawn_at <= ?)))`,
      )
      .all(cutoff, cutoff)
      .map((r) => r.id);
  }

  scopes(): GatewayScope[] {
    return this.db
      .prepare<[], { gateway: string; dorms: string; buildings: string; watchlist: number }>('SELECT * FROM face_gateway_scopes ORDER BY gateway')
      .all()
      .map((r) => ({ gateway: r.gateway, dorms: JSON.parse(r.dorms) as string[], buildings: JSON.parse(r.buildings) as string[], watchlist: r.watchlist === 1 }));
  }

  setScope(s: GatewayScope): void {
    this.db
      .prepare('INSERT INTO face_gateway_scopes (gateway, dorms, buildings, watchlist) VALUES (?, ?, ?, ?) ON CONFLICT(gateway) DO UPDATE SET dorms = excluded.dorms, buildings = excluded.buildings, watchlist = excluded.watchlist')
      .run(s.gateway, JSON.stringify(s.dorms), JSON.stringify(s.buildings), s.watchlist ? 1 : 0);
  }
}
