import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Role, UserAccount } from '@warden/contract';
import { ROLES } from '../api/values.ts';
import { hubPath } from '../api/client.ts';
import { fullTime } from '../lib/format.ts';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet } from '../state/fetch.ts';

const list = (s: string) => [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))];

/**
 * Console accounts (admin): create with roles and a building scope, disable/enable, reset a password, log a user
 * out everywhere, lift a lockout. A generated password is shown once. The hub enforces everything; this page only asks.
 */
export function UsersPage() {
  const { t } = useTranslation();
  const { api } = useSignedIn();
  const [users, setUsers] = useState<UserAccount[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [username, setUsername] = useState('');
  const [roles, setRoles] = useState<Role[]>(['security']);
  const [buildings, setBuildings] = useState('');
  const [students, setStudents] = useState('');
  const fetched = useHubGet(hubPath('GET /api/users', {}), (d) => setUsers(d.users));

  const run = async (fn: () => Promise<string | null>) => {
    setError(null);
    setMessage(null);
    try {
      setMessage(await fn());
      fetched.reload();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const create = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const b = list(buildings);
      const st = list(students);
      const scope = { ...(b.length ? { buildings: b } : {}), ...(st.length ? { students: st } : {}) };
      const res = await api('POST /api/users', { body: { username, roles, ...(b.length || st.length ? { scope } : {}) } });
      setUsername('');
      return t('users.created', { username: res.user.username, password: res.password });
    });
  };

  return (
    <section className="page" aria-labelledby="users-title">
      <div className="page-head">
        <h1 id="users-title">{t('users.title')}</h1>
      </div>
      <form onSubmit={create} className="inline-form" data-testid="users-create">
        <input value={username} onChange={(e) => setUsername(e.target.value)} placeholder={t('users.username')} required pattern="[a-z0-9][a-z0-9_.\-]{0,63}" />
        {ROLES.map((r) => (
          <label key={r}>
            <input type="checkbox" checked={roles.includes(r)} onChange={(e) => setRoles(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))} /> {t(`roles.${r}`)}
          </label>
        ))}
        <input value={buildings} onChange={(e) => setBuildings(e.target.value)} placeholder={t('users.buildings')} />
        {roles.includes('counsellor') && <input value={students} onChange={(e) => setStudents(e.target.value)} placeholder={t('users.students')} data-testid="users-students" />}
        <button type="submit" disabled={roles.length === 0}>
          {t('users.create')}
        </button>
      </form>
      {message && (
        <p className="hint" role="status" data-testid="users-message">
          {message}
        </p>
      )}
      {(error ?? fetched.error) && (
        <p className="error" role="alert">
          {error ?? fetched.error}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="users-list">
          <thead>
            <tr>
              <th>{t('users.username')}</th>
              <th>{t('users.roles')}</th>
              <th>{t('users.scope')}</th>
              <th>{t('users.state')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users?.map((u) => (
              <tr key={u.username} data-testid="user-row" data-username={u.username}>
                <td className="mono">{u.username}</td>
                <td>{u.roles.map((r) => t(`roles.${r}`)).join(', ')}</td>
                <td className="mono">{[...(u.scope.buildings ?? []), ...(u.scope.zones ?? []), ...(u.scope.dorms ?? []), ...(u.scope.students ?? [])].join(', ') || t('users.everywhere')}</td>
                <td>
                  {u.disabled ? t('users.disabled') : t('users.active')}
                  {u.lockedUntil !== null && ` · ${t('users.lockedUntil', { time: fullTime(u.lockedUntil) })}`}
                </td>
                <td>
                  <button type="button" onClick={() => void run(async () => (await api('PATCH /api/users/:id', { params: { id: u.username }, body: { disabled: !u.disabled } }), null))}>
                    {u.disabled ? t('users.enable') : t('users.disable')}
                  </button>{' '}
                  <button type="button" onClick={() => void run(async () => t('users.reset', { password: (await api('POST /api/users/:id/password', { params: { id: u.username }, body: {} })).password }))}>
                    {t('users.resetPassword')}
                  </button>{' '}
                  <button type="button" onClick={() => void run(async () => (await api('POST /api/users/:id/logout', { params: { id: u.username } }), t('users.loggedOut')))}>
                    {t('users.logout')}
                  </button>
                  {u.lockedUntil !== null && (
                    <button type="button" onClick={() => void run(async () => (await api('POST /api/users/:id/unlock', { params: { id: u.username } }), null))}>
                      {t('users.unlock')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
