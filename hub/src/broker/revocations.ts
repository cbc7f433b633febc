import type { StateDb } from '../store/state-db.ts';

/**
 * Gateway client certificates revoked by an admin, by SHA-256 fingerprint (issue 9): a revoked certificate is
 * refused at the next MQTT login even though it still chains to the campus CA. Kept in the hub's state database.
 */
export class CertRevocations {
  private readonly q;
  private readonly cache = new Set<string>();

  constructor(db: StateDb) {
    db.exec(`CREATE TABLE IF NOT EXISTS gateway_cert_revocations (
      fingerprint TEXT PRIMARY KEY,
      gateway TEXT NOT NULL,
      revoked_at INTEGER NOT NULL,
      actor TEXT NOT NULL
    ) STRICT`);
    this.q = {
      insert: db.prepare('INSERT OR IGNORE INTO gateway_cert_revocations (fingerprint, gateway, revoked_at, actor) VALUES (?, ?, ?, ?)'),
      all: db.prepare<[], { fingerprint: string }>('SELECT fingerprint FROM gateway_cert_revocations'),
    };
    for (const r of this.q.all.all()) this.cache.add(r.fingerprint);
  }

  /** `fingerprint`: 64 hex digits, any case, colons allowed. Returns false when it was revoked already. */
  revoke(gateway: string, fingerprint: string, actor: string, at: number): boolean {
    const fp = normaliseFingerprint(fingerprint);
    if (this.cache.has(fp)) return false;
    this.q.insert.run(fp, gateway, at, actor);
    this.cache.add(fp);
    return true;
  }

  isRevoked(fingerprint: string): boolean {
    return this.cache.has(normaliseFingerprint(fingerprint));
  }
}

export const normaliseFingerprint = (fp: string): string => fp.replace(/:/g, '').toLowerCase();
