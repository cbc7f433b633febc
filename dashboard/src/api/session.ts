import type { User } from '@warden/contract';

/** Per-tab login: closing the tab logs out, a reload does not. */
const KEY = 'warden.session';

export interface Session {
  token: string;
  user: User;
}

export function loadSession(storage: Storage = sessionStorage): Session | null {
  const raw = storage.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token === 'string' && s.user && Array.isArray(s.user.roles)) return s as Session;
  } catch {
    // Corrupt entry: treated as logged out.
  }
  storage.removeItem(KEY);
  return null;
}

export function saveSession(s: Session, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}
