import { useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, hubPath } from '../api/client.ts';
import type { Gateway, ProvisionedGateway } from '@warden/contract';
import { countOnline } from '../lib/devices.ts';
import { ago, fullTime } from '../lib/format.ts';
import { applyGatewayUpdates, GATEWAY_ID_PATTERN } from '../lib/gateways.ts';
import { useNow } from '../lib/now.ts';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet, useReloadOnUnknown } from '../state/fetch.ts';
import { useLiveBatch } from '../state/live.tsx';

export function GatewaysPage() {
  const { t } = useTranslation();
  const now = useNow();
  const [gateways, setGateways] = useState<Gateway[]>([]);
  const fetched = useHubGet(hubPath('GET /api/gateways', {}), (d) => setGateways(d.gateways));
  const unknownGateways = useReloadOnUnknown(fetched.reload);
  useLiveBatch('gateway', (updates) => {
    unknownGateways(applyGatewayUpdates(gateways, updates).unknown);
    setGateways((cur) => applyGatewayUpdates(cur, updates).gateways);
  });

  const sorted = useMemo(() => [...gateways].sort((a, b) => a.id.localeCompare(b.id)), [gateways]);
  const counts = countOnline(gateways);

  return (
    <section className="page" aria-labelledby="gateways-title">
      <div className="page-head">
        <h1 id="gateways-title">{t('gateways.title')}</h1>
        <span className="counts" data-testid="gateway-counts">
          {t('gateways.counts', counts)}
        </span>
      </div>
      {fetched.error && (
        <p className="error" role="alert">
          {t('gateways.loadFailed', { message: fetched.error })}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="gateways-table">
          <thead>
            <tr>
              <th>{t('gateways.status')}</th>
              <th>{t('gateways.id')}</th>
              <th>{t('gateways.name')}</th>
              <th className="num">{t('gateways.backlog')}</th>
              <th>{t('gateways.lastSeen')}</th>
              <th className="hide-narrow">{t('gateways.agentVersion')}</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((g) => (
              <tr key={g.id} data-testid="gateway-row" data-gateway={g.id} data-online={String(g.online)}>
                <td>
                  <span className={`badge ${g.online ? 'badge-on' : 'badge-off'}`}>
                    {g.online ? t('gateways.online') : t('gateways.offline')}
                  </span>
                </td>
                <td className="mono">{g.id}</td>
                <td>{g.name}</td>
                <td className={`num ${g.backlog ? 'backlog' : ''}`} data-testid="gateway-backlog">
                  {g.backlog ?? '–'}
                </td>
                <td title={g.lastSeen ? fullTime(g.lastSeen) : undefined}>{ago(g.lastSeen, t, now)}</td>
                <td className="hide-narrow mono">{g.agentVersion ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!fetched.loading && gateways.length === 0 && <p className="empty">{t('gateways.empty')}</p>}
      </div>
      <ProvisionForm onProvisioned={fetched.reload} />
    </section>
  );
}

function ProvisionForm({ onProvisioned }: { onProvisioned: () => void }) {
  const { t } = useTranslation();
  const { api } = useSignedIn();
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ProvisionedGateway | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const body = name.trim() ? { id: id.trim(), name: name.trim() } : { id: id.trim() };
      setResult(await api('POST /api/gateways', { body }));
      setId('');
      setName('');
      onProvisioned();
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 409
          ? t('gateways.provisionExists', { id: id.trim() })
          : t('gateways.provisionFailed', { message: err instanceof Error ? err.message : String(err) }),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card provision" onSubmit={submit} data-testid="provision-form">
      <h2>{t('gateways.provisionTitle')}</h2>
      <div className="row">
        <label>
          {t('gateways.provisionId')}
          <input
            required
            pattern={GATEWAY_ID_PATTERN}
            maxLength={64}
            value={id}
            onChange={(e) => setId(e.target.value)}
            placeholder="bldg-a"
            title={t('gateways.provisionIdHint')}
            data-testid="provision-id"
          />
        </label>
        <label>
          {t('gateways.provisionName')}
          <input maxLength={200} value={name} onChange={(e) => setName(e.target.value)} data-testid="provision-name" />
        </label>
        <button type="submit" className="primary" disabled={busy} data-testid="provision-submit">
          {t('gateways.provisionSubmit')}
        </button>
      </div>
      <p className="muted hint">{t('gateways.provisionIdHint')}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div className="secret" data-testid="provision-result">
          <p>{t('gateways.provisioned', { id: result.id })}</p>
          <code className="mono" data-testid="provision-password">
            {result.password}
          </code>
        </div>
      )}
    </form>
  );
}
