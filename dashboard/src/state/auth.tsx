import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, call, getPath, type ApiRoute, type CallArgs, type GetRoute, type HubPath, type Reply } from '../api/client.ts';
import { clearSession, loadSession, saveSession, type Session } from '../api/session.ts';
import type { User } from '@warden/contract';

/** Why the login page is shown again, when it is not a plain logout. */
export type LogoutReason = 'expired' | null;

export interface Auth {
  session: Session | null;
  notice: LogoutReason;
  login(username: string, password: string): Promise<void>;
  logout(reason?: LogoutReason): void;
}

/** Login state of the tab: restored from sessionStorage so a reload keeps the operator signed in. */
export function useAuthState(): Auth {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<LogoutReason>(null);

  const logout = useCallback((reason: LogoutReason = null) => {
    clearSession();
    setSession(null);
    setNotice(reason);
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const res = await call('POST /api/auth/login', { body: { username, password } });
    const s = { token: res.token, user: res.user };
    saveSession(s);
    setNotice(null);
    setSession(s);
  }, []);

  // A restored token may have expired or been signed by a hub that has since changed keys.
  const token = session?.token;
  useEffect(() => {
    if (!token) return;
    const ac = new AbortController();
    call('GET /api/me', {}, { token, signal: ac.signal }).then(
      (user) => {
        setSession((cur) => {
          if (!cur || cur.token !== token) return cur;
          const next = { token, user };
          saveSession(next);
          return next;
        });
      },
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401) logout('expired');
      },
    );
    return () => ac.abort();
  }, [token, logout]);

  return { session, notice, login, logout };
}

export interface SignedIn {
  user: User;
  token: string;
  logout(reason?: LogoutReason): void;
  /** A hub call with the session's token (route key and arguments typed by the contract); a 401 ends the session. */
  api<K extends ApiRoute>(route: K, args: CallArgs<K>, opts?: { signal?: AbortSignal }): Promise<Reply<K>>;
  /** GET of a URL built by `hubPath`, with the session's token; a 401 ends the session. */
  get<K extends GetRoute>(path: HubPath<K>, opts?: { signal?: AbortSignal }): Promise<Reply<K>>;
}

const SignedInContext = createContext<SignedIn | null>(null);

export function SignedInProvider({ session, logout, children }: { session: Session; logout: Auth['logout']; children: ReactNode }) {
  const { token, user } = session;
  const value = useMemo<SignedIn>(() => {
    const expireOn401 = async <T,>(p: Promise<T>): Promise<T> => {
      try {
        return await p;
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) logout('expired');
        throw err;
      }
    };
    return {
      user,
      token,
      logout,
      api: (route, args, opts = {}) => expireOn401(call(route, args, { ...opts, token })),
      get: (path, opts = {}) => expireOn401(getPath(path, { ...opts, token })),
    };
  }, [token, user, logout]);
  return <SignedInContext.Provider value={value}>{children}</SignedInContext.Provider>;
}

export function useSignedIn(): SignedIn {
  const v = useContext(SignedInContext);
  if (!v) throw new Error('useSignedIn outside SignedInProvider');
  return v;
}
