import { useState, type FormEvent } from 'react';
import type { Person } from '@warden/contract';
import { useTranslation } from 'react-i18next';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet } from '../state/fetch.ts';
import { hubPath } from '../api/client.ts';

/** A person as `GET /api/faces/persons` returns them: no templates, no photos (contract/src/api/faces.ts). */
type FacePerson = Person;

const list = (s: string) =>
  s
    .split(/[,，\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** Base64 of a chosen file, without the data: URL prefix. */
function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error ?? new Error('read failed'));
    r.readAsDataURL(file);
  });
}

export function FacesPage() {
  const { t } = useTranslation();
  const { api, user } = useSignedIn();
  const [persons, setPersons] = useState<FacePerson[]>([]);
  const [error, setError] = useState<string | null>(null);
  const fetched = useHubGet(hubPath('GET /api/faces/persons', {}), (d) => setPersons(d.persons));
  const canWatch = user.roles.includes('admin') || user.roles.includes('security');

  async function act(fn: () => Promise<unknown>) {
    setError(null);
    try {
      await fn();
      fetched.reload();
    } catch (err) {
      setError(t('faces.actionFailed', { message: err instanceof Error ? err.message : String(err) }));
    }
  }

  return (
    <section className="page" aria-labelledby="faces-title">
      <div className="page-head">
        <h1 id="faces-title">{t('faces.title')}</h1>
        <span className="counts" data-testid="faces-count">
          {t('faces.count', { count: persons.length })}
        </span>
      </div>
      <p className="muted hint">{t('faces.privacy')}</p>
      {(fetched.error || error) && (
        <p className="error" role="alert" data-testid="faces-error">
          {error ?? t('faces.loadFailed', { message: fetched.error })}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="faces-table">
          <thead>
            <tr>
              <th>{t('faces.name')}</th>
              <th>{t('faces.roles')}</th>
              <th>{t('faces.memberships')}</th>
              <th>{t('faces.credentials')}</th>
              <th className="num">{t('faces.templates')}</th>
              <th>{t('faces.consent')}</th>
              <th>{t('faces.watchlist')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {persons.map((p) => (
              <tr key={p.id} data-testid="face-row" data-person={p.id} data-watchlist={String(p.watchlist)} data-templates={p.templates}>
                <td>
                  {p.name}
                  {p.leftAt !== null && <span className="badge badge-off">{t('faces.left')}</span>}
                </td>
                <td>{p.roles.join(', ')}</td>
                <td className="mono">{[...p.dorms, ...p.buildings].join(', ')}</td>
                <td className="mono">{p.credentials.join(', ') || '–'}</td>
                <td className="num">{p.templates}</td>
                <td data-testid="face-consent">
                  {p.consent
                    ? t('faces.consentGiven', { by: p.consent.givenBy, scope: p.consent.scope, at: new Date(p.consent.givenAt).toLocaleDateString() })
                    : p.consents.some((c) => c.withdrawnAt !== null)
                      ? t('faces.consentWithdrawn')
                      : t('faces.consentNone')}
                  {p.consent && (
                    <button type="button" data-testid="face-withdraw" onClick={() => act(() => api('POST /api/faces/persons/:id/consent/withdraw', { params: { id: p.id } }))}>
                      {t('faces.withdraw')}
                    </button>
                  )}
                </td>
                <td>
                  {canWatch ? (
                    <label>
                      <input
                        type="checkbox"
                        checked={p.watchlist}
                        data-testid="face-watchlist"
                        onChange={(e) => act(() => api('PUT /api/faces/persons/:id/watchlist', { params: { id: p.id }, body: { on: e.target.checked } }))}
                      />
                      {p.watchlist ? t('faces.onWatchlist') : ''}
                    </label>
                  ) : p.watchlist ? (
                    t('faces.onWatchlist')
                  ) : (
                    ''
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    data-testid="face-delete"
                    onClick={() => {
                      if (window.confirm(t('faces.confirmDelete', { name: p.name }))) void act(() => api('DELETE /api/faces/persons/:id', { params: { id: p.id } }));
                    }}
                  >
                    {t('faces.delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!fetched.loading && persons.length === 0 && <p className="empty">{t('faces.empty')}</p>}
      </div>
      <EnrolForm onDone={fetched.reload} />
    </section>
  );
}

function EnrolForm({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const { api } = useSignedIn();
  const [name, setName] = useState('');
  const [roles, setRoles] = useState('student');
  const [dorms, setDorms] = useState('');
  const [buildings, setBuildings] = useState('');
  const [credentials, setCredentials] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [givenBy, setGivenBy] = useState('');
  const [scope, setScope] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const person = await api('POST /api/faces/persons', {
        body: { name: name.trim(), roles: list(roles), dorms: list(dorms), buildings: list(buildings), credentials: list(credentials) },
      });
      if (files.length) {
        const photos = await Promise.all(files.map(readBase64));
        try {
          await api('POST /api/faces/persons/:id/enrol', { params: { id: person.id }, body: { photos, consent: { givenBy: givenBy.trim() || name.trim(), scope: scope.trim() || t('faces.defaultScope') } } });
        } catch (err) {
          setMessage({ ok: false, text: t('faces.enrolFailed', { message: err instanceof Error ? err.message : String(err) }) });
          onDone();
          return;
        }
      }
      setMessage({ ok: true, text: files.length ? t('faces.enrolled', { name: person.name, count: files.length }) : t('faces.cardOnly', { name: person.name }) });
      setName('');
      setCredentials('');
      setFiles([]);
      onDone();
    } catch (err) {
      setMessage({ ok: false, text: t('faces.enrolFailed', { message: err instanceof Error ? err.message : String(err) }) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card provision" onSubmit={submit} data-testid="face-enrol-form">
      <h2>{t('faces.enrolTitle')}</h2>
      <div className="row">
        <label>
          {t('faces.name')}
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} data-testid="face-name" />
        </label>
        <label>
          {t('faces.roles')}
          <input value={roles} onChange={(e) => setRoles(e.target.value)} data-testid="face-roles" />
        </label>
        <label>
          {t('faces.dorms')}
          <input value={dorms} onChange={(e) => setDorms(e.target.value)} data-testid="face-dorms" />
        </label>
        <label>
          {t('faces.buildings')}
          <input value={buildings} onChange={(e) => setBuildings(e.target.value)} data-testid="face-buildings" />
        </label>
        <label>
          {t('faces.credentials')}
          <input value={credentials} onChange={(e) => setCredentials(e.target.value)} data-testid="face-credentials" />
        </label>
      </div>
      <div className="row">
        <label>
          {t('faces.photos')}
          <input type="file" accept="image/jpeg,image/png" multiple data-testid="face-photos" onChange={(e) => setFiles([...(e.target.files ?? [])])} />
        </label>
        <label>
          {t('faces.consentBy')}
          <input value={givenBy} onChange={(e) => setGivenBy(e.target.value)} data-testid="face-consent-by" />
        </label>
        <label>
          {t('faces.consentScope')}
          <input value={scope} onChange={(e) => setScope(e.target.value)} data-testid="face-consent-scope" />
        </label>
        <button type="submit" className="primary" disabled={busy} data-testid="face-submit">
          {files.length ? t('faces.submitPhotos') : t('faces.submitCard')}
        </button>
      </div>
      <p className="muted hint">{t('faces.enrolHint')}</p>
      {message && (
        <p className={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="face-enrol-result">
          {message.text}
        </p>
      )}
    </form>
  );
}
