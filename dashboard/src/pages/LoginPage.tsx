import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, UNREACHABLE } from '../api/client.ts';
import { LangToggle } from '../components/LangToggle.tsx';
import { Logo } from '../components/Shell.tsx';
import type { Auth } from '../state/auth.tsx';

type LoginError =
  | { key: 'required' | 'badCredentials' | 'lockedOut' | 'unreachable' }
  | { key: 'lockedOutRetry'; seconds: number }
  | { key: 'failed'; message: string };

function describe(err: unknown): LoginError {
  if (err instanceof ApiError) {
    if (err.status === 401) return { key: 'badCredentials' };
    if (err.status === 429) return err.retryAfterS ? { key: 'lockedOutRetry', seconds: err.retryAfterS } : { key: 'lockedOut' };
    if (err.code === UNREACHABLE) return { key: 'unreachable' };
    return { key: 'failed', message: err.message };
  }
  return { key: 'failed', message: err instanceof Error ? err.message : String(err) };
}

export function LoginPage({ auth }: { auth: Auth }) {
  const { t } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<LoginError | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError({ key: 'required' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await auth.login(username.trim(), password);
    } catch (err) {
      setError(describe(err));
      setPassword('');
      setBusy(false);
    }
  }

  const message = error
    ? error.key === 'lockedOutRetry'
      ? t('login.lockedOutRetry', { seconds: error.seconds })
      : error.key === 'failed'
        ? t('login.failed', { message: error.message })
        : t(`login.${error.key}`)
    : null;

  return (
    <div className="login-screen">
      <div className="login-lang">
        <LangToggle />
      </div>
      <form className="login-card" onSubmit={submit} data-testid="login-form" noValidate>
        <div className="login-brand">
          <Logo />
          <div>
            <h1>{t('app.name')}</h1>
            <p className="muted">{t('app.tagline')}</p>
          </div>
        </div>
        <h2>{t('login.title')}</h2>
        {auth.notice === 'expired' && !error && (
          <p className="notice" data-testid="login-notice">
            {t('login.sessionExpired')}
          </p>
        )}
        <label>
          {t('login.username')}
          <input
            name="username"
            autoComplete="username"
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            data-testid="login-username"
          />
        </label>
        <label>
          {t('login.password')}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="login-password"
          />
        </label>
        {message && (
          <p className="error" role="alert" data-testid="login-error" data-error={error?.key}>
            {message}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="login-submit">
          {busy ? t('login.submitting') : t('login.submit')}
        </button>
      </form>
    </div>
  );
}
