import type { GatewayStatus } from '@warden/contract';
import type { StateDb } from './state-db.ts';

export interface GatewayView {
  id: string;
  name: string | null;
  online: boolean;
  lastSeen: number | null;
  backlog: number | null;
  agentVersion: string | null;
  /** Records the gateway's full outbox shed, per class (absent until a gateway reports it). */
  outboxShed?: { telemetry: number; routine: number };
}

interface Row {
  id: string;
  name: string | null;
  online: number;
  last_seen: number | null;
  last_status: string | null;
}

function view(r: Row): GatewayView {
  const status = r.last_status ? (JSON.parse(r.last_status) as Partial<GatewayStatus>) : {};
  return {
    id: r.id,
    name: r.name,
    online: r.online === 1,
    lastSeen: r.last_seen,
    backlog: status.backlog ?? null,
    agentVersion: status.agentVersion ?? null,
    ...(status.outboxShed ? { outboxShed: status.outboxShed } : {}),
  };
}

export class GatewayRepo {
  private readonly q;
  constructor(db: StateDb) {
    this.q = {
      get: db.prepare<[string], Row>('SELECT id, name, online, last_seen, last_status FROM gateways WHERE id = ?'),
      list: db.prepare<[], Row>('SELECT id, name, online, last_seen, last_status FROM gateways ORDER BY id'),
      hash: db.prepare<[string], { password_hash: string }>('SELECT password_hash FROM gateways WHERE id = ?'),
      insert: db.prepare('INSERT INTO gateways (id, name, password_hash, created_at) VALUES (?, ?, ?, ?)'),
      setPassword: db.prepare('UPDATE gateways SET password_hash = ?, name = coalesce(?, name) WHERE id = ?'),
      setStatus: db.prepare('UPDATE gateways SET online = ?, last_seen = ?, last_status = ? WHERE id = ?'),
      setOnline: db.prepare('UPDATE gateways SET online = ?, last_seen = ? WHERE id = ?'),
      touch: db.prepare('UPDATE gateways SET last_seen = ? WHERE id = ?'),
      allOffline: db.prepare('UPDATE gateways SET online = 0'),
      countOnline: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM gateways WHERE online = 1'),
    };
  }

  get(id: string): GatewayView | null {
    const r = this.q.get.get(id);
    return r ? view(r) : null;
  }

  list(): GatewayView[] {
    return this.q.list.all().map(view);
  }

  passwordHash(id: string): string | null {
    return this.q.hash.get(id)?.password_hash ?? null;
  }

  exists(id: string): boolean {
    return this.q.hash.get(id) !== undefined;
  }

  create(id: string, name: string | null, passwordHash: string, now = Date.now()): void {
    this.q.insert.run(id, name, passwordHash, now);
  }

  setPassword(id: string, passwordHash: string, name: string | null): void {
    this.q.setPassword.run(passwordHash, name, id);
  }

  applyStatus(id: string, status: GatewayStatus, now: number): GatewayView | null {
    this.q.setStatus.run(status.state === 'online' ? 1 : 0, now, JSON.stringify(status), id);
    return this.get(id);
  }

  setOnline(id: string, online: boolean, now: number): GatewayView | null {
    this.q.setOnline.run(online ? 1 : 0, now, id);
    return this.get(id);
  }

  touch(id: string, now: number): void {
    this.q.touch.run(now, id);
  }

  /** At start-up nobody is connected yet, whatever the last run recorded. */
  markAllOffline(): void {
    this.q.allOffline.run();
  }

  countOnline(): number {
    return this.q.countOnline.get()!.n;
  }
}
