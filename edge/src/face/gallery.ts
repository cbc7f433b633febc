import { createDotKernel, type DotKernel } from './dot-kernel.ts';

/** A person as the gallery knows them: an id and flags, never a name or a photo (minimal data). */
export interface GalleryPerson {
  id: string;
  /** On a watch list: a match raises face.watchlist and never opens a door. */
  watchlist: boolean;
  /** Card or QR credentials that stand in for the face at every point. */
  credentials: string[];
}

export interface Match {
  person: string;
  score: number;
  watchlist: boolean;
}

export interface GallerySnapshot {
  dimensions: number;
  persons: GalleryPerson[];
  /** Revoked person ids: a late sync must not bring their templates back. */
  revoked: string[];
  /** Row -> index into persons. */
  owners: number[];
  templates: Float32Array;
}

/**
 * Face templates for 1:N search. Templates are L2-normalised rows of one Float32Array matrix, so search is
 * a dot product per row (cosine similarity) in a tight loop; a person may have several templates and is
 * scored by their best one. Removal swaps the last row into the hole, so the matrix stays dense.
 */
export class Gallery {
  private readonly kernel: DotKernel;
  private owners: Int32Array;
  private rows = 0;
  private readonly persons: (GalleryPerson | null)[] = [];
  private readonly index = new Map<string, number>();
  private readonly byCredential = new Map<string, string>();
  private readonly revoked = new Set<string>();
  private best = new Float32Array(0);

  /** `kernel: 'js'` forces the plain-JS scoring loop (the benchmark's baseline); default is WebAssembly SIMD where available. */
  constructor(readonly dimensions: number, capacity = 1024, options: { kernel?: 'auto' | 'js' } = {}) {
    this.kernel = createDotKernel(dimensions, capacity, options.kernel === 'js');
    this.owners = new Int32Array(capacity);
  }

  /** Whether search runs on the WebAssembly SIMD kernel. */
  get simd(): boolean {
    return this.kernel.simd;
  }

  get templateCount(): number {
    return this.rows;
  }

  get personCount(): number {
    return this.index.size;
  }

  has(person: string): boolean {
    return this.index.has(person);
  }

  isRevoked(person: string): boolean {
    return this.revoked.has(person);
  }

  person(id: string): GalleryPerson | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.persons[i]!;
  }

  /** Creates or updates a person's flags and credentials (templates are added separately). */
  upsertPerson(id: string, info: { watchlist?: boolean; credentials?: readonly string[] } = {}): void {
    if (this.revoked.has(id)) throw new Error(`person ${id} was revoked; restore() them before enrolling again`);
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.persons.length;
      this.persons.push({ id, watchlist: false, credentials: [] });
      this.index.set(id, i);
    }
    const p = this.persons[i]!;
    if (info.watchlist !== undefined) p.watchlist = info.watchlist;
    if (info.credentials) {
      for (const c of p.credentials) this.byCredential.delete(c);
      p.credentials = [...info.credentials];
      for (const c of p.credentials) this.byCredential.set(c, id);
    }
  }

  /** Adds one template for a person (created if new). The template must have the gallery's length; it is normalised here. */
  addTemplate(person: string, template: ArrayLike<number>): void {
    if (template.length !== this.dimensions) throw new Error(`template has ${template.length} values, the gallery holds ${this.dimensions}`);
    let norm = 0;
    for (let i = 0; i < template.length; i++) norm += template[i]! * template[i]!;
    if (!(norm > 0) || !Number.isFinite(norm)) throw new Error('template is all zeros or not finite');
    if (!this.index.has(person)) this.upsertPerson(person);
    this.kernel.ensureRows(this.rows + 1);
    if (this.rows >= this.owners.length) {
      const o = new Int32Array(this.owners.length * 2);
      o.set(this.owners);
      this.owners = o;
    }
    const inv = 1 / Math.sqrt(norm);
    const base = this.rows * this.dimensions;
    const m = this.kernel.matrix;
    for (let i = 0; i < this.dimensions; i++) m[base + i] = template[i]! * inv;
    this.owners[this.rows] = this.index.get(person)!;
    this.rows++;
  }

  /** Removes a person and every template of theirs; returns how many templates went. */
  remove(person: string): number {
    const i = this.index.get(person);
    if (i === undefined) return 0;
    let removed = 0;
    for (let r = this.rows - 1; r >= 0; r--) {
      if (this.owners[r] !== i) continue;
      const last = this.rows - 1;
      if (r !== last) {
        this.kernel.matrix.copyWithin(r * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
        this.owners[r] = this.owners[last]!;
      }
      this.rows--;
      removed++;
    }
    for (const c of this.persons[i]!.credentials) this.byCredential.delete(c);
    this.persons[i] = null;
    this.index.delete(person);
    return removed;
  }

  /** Removes a person and refuses their templates until restore(): revocation must survive a stale sync. */
  revoke(person: string): number {
    const n = this.remove(person);
    this.revoked.add(person);
    return n;
  }

  restore(person: string): void {
    this.revoked.delete(person);
  }

  /** The person a card or QR credential belongs to. */
  credentialOwner(credential: string): GalleryPerson | undefined {
    const id = this.byCredential.get(credential);
    return id === undefined ? undefined : this.person(id);
  }

  /** The k best-matching persons (each by their best template), best first. `probe` must be L2-normalised. */
  search(probe: Float32Array, k = 1): Match[] {
    if (probe.length !== this.dimensions) throw new Error(`probe has ${probe.length} values, the gallery holds ${this.dimensions}`);
    const n = this.rows;
    if (n === 0) return [];
    this.kernel.probe.set(probe);
    this.kernel.run(n);
    const scores = this.kernel.scores;
    if (this.best.length < this.persons.length) this.best = new Float32Array(Math.max(this.persons.length, this.best.length * 2));
    const best = this.best;
    best.fill(-Infinity, 0, this.persons.length);
    for (let r = 0; r < n; r++) {
      const o = this.owners[r]!;
      if (scores[r]! > best[o]!) best[o] = scores[r]!;
    }
    // One pass keeping the k best in a small sorted list: k is 1-5, persons may be 30,000.
    const topI: number[] = [];
    const topS: number[] = [];
    for (let i = 0; i < this.persons.length; i++) {
      const s = best[i]!;
      if (topS.length === k && s <= topS[k - 1]!) continue;
      if (s === -Infinity) continue;
      let at = topS.length;
      while (at > 0 && topS[at - 1]! < s) at--;
      topS.splice(at, 0, s);
      topI.splice(at, 0, i);
      if (topS.length > k) {
        topS.pop();
        topI.pop();
      }
    }
    return topI.map((i, j) => {
      const p = this.persons[i]!;
      return { person: p.id, score: topS[j]!, watchlist: p.watchlist };
    });
  }

  snapshot(): GallerySnapshot {
    const live = this.persons.map((p, i) => [p, i] as const).filter((x): x is readonly [GalleryPerson, number] => x[0] !== null);
    const remap = new Map(live.map(([, i], j) => [i, j]));
    return {
      dimensions: this.dimensions,
      persons: live.map(([p]) => ({ ...p, credentials: [...p.credentials] })),
      revoked: [...this.revoked],
      owners: Array.from(this.owners.subarray(0, this.rows), (o) => remap.get(o)!),
      templates: this.kernel.matrix.slice(0, this.rows * this.dimensions),
    };
  }

  static fromSnapshot(s: GallerySnapshot): Gallery {
    if (s.templates.length !== s.owners.length * s.dimensions) throw new Error('gallery snapshot: template matrix does not match its row count');
    const g = new Gallery(s.dimensions, Math.max(1024, s.owners.length));
    for (const p of s.persons) g.upsertPerson(p.id, p);
    s.owners.forEach((o, r) => {
      const p = s.persons[o];
      if (!p) throw new Error(`gallery snapshot: row ${r} names person #${o}, which does not exist`);
      g.addTemplate(p.id, s.templates.subarray(r * s.dimensions, (r + 1) * s.dimensions));
    });
    for (const id of s.revoked) g.revoked.add(id);
    return g;
  }
}
