import type { Role } from '../config.ts';
import type { StateDb } from '../store/state-db.ts';

export interface User {
  username: string;
  displayName: string;
  roles: Role[];
}

interface Row {
  username: string;
  display_name: string;
  roles: string;
  password_hash: string;
}

export class UserRepo {
  private readonly q;
  constructor(db: StateDb) {
    this.q = {
      get: db.prepare<[string], Row>('SELECT username, display_name, roles, password_hash FROM users WHERE username = ?'),
      insert: db.prepare('INSERT INTO users (username, display_name, roles, password_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users'),
    };
  }

  get(username: string): User | null {
    const r = this.q.get.get(username);
    return r ? { username: r.username, displayName: r.display_name, roles: JSON.parse(r.roles) as Role[] } : null;
  }

  passwordHash(username: string): string | null {
    return this.q.get.get(username)?.password_hash ?? null;
  }

  exists(username: string): boolean {
    return this.q.get.get(username) !== undefined;
  }

  create(u: User, passwordHash: string, now = Date.now()): void {
    this.q.insert.run(u.username, u.displayName, JSON.stringify(u.roles), passwordHash, now);
  }
}
