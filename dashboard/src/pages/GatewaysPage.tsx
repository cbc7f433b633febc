import { useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, hubPath } from '../api/client.ts';
import type { Gateway, ProvisionedGateway, RevokedCertificate, RotatedGateway } from '@warden/contract';
import { countOnline } from '../lib/devices.ts';
import { ago, fullTime } from '../lib/format.ts';
import { applyGatewayUpdates, GATEWAY_ID_PATTERN } from '../lib/gateways.ts';
import { useNow } from '../lib/now.ts';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet, useReloadOnUnknown } from '../state/fetch.ts';
import { useLiveBatch } from '../state/live.tsx';

/** The hub's fingerprint pattern (contract GATEWAY_ROUTES, certificates/revoke) as an HTML pattern (anchored by the browser). */
const FINGERPRINT_PATTERN = '([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{64}';

export function GatewaysPage() {
  const { t } = useTranslation();
  const now = useNow();
  const { user } = useSignedIn();
  // The credential routes are admin only (hub/src/auth/policy.ts); others do not get the actions at all.
  const isAdmin = user.roles.includes('admin');
  const [credentialsOf, setCredentialsOf] = useState<string | null>(null);
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
              {isAdmin && <th>{t('gateways.actions')}</th>}
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
                {isAdmin && (
                  <td>
                    <button
                      type="button"
                      aria-expanded={credentialsOf === g.id}
                      onClick={() => setCredentialsOf(credentialsOf === g.id ? null : g.id)}
                      data-testid="gateway-credentials"
                    >
                      {t('gateways.credentials')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {!fetched.loading && gateways.length === 0 && <p className="empty">{t('gateways.empty')}</p>}
      </div>
      {isAdmin && credentialsOf && <GatewayCredentials key={credentialsOf} id={credentialsOf} onClose={() => setCredentialsOf(null)} />}
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

/**
 * A gateway's credentials (admin only; both actions audited by the hub and closing the gateway's live MQTT session):
 * rotate its MQTT password (POST /api/gateways/:id/credentials; the new password is shown once and kept only in this
 * component's state, never in storage, and dropped when hidden or closed) and revoke a client certificate by
 * fingerprint (POST /api/gateways/:id/certificates/revoke). Each asks for confirmation first.
 */
function GatewayCredentials({ id, onClose }: { id: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { api } = useSignedIn();
  const [confirming, setConfirming] = useState<'rotate' | 'revoke' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [rotated, setRotated] = useState<RotatedGateway | null>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  const [fingerprint, setFingerprint] = useState('');
  const [revoked, setRevoked] = useState<RevokedCertificate | null>(null);

  async function rotate() {
    setBusy(true);
    setError(null);
    setRotated(null);
    setCopied(null);
    try {
      setRotated(await api('POST /api/gateways/:id/credentials', { params: { id }, body: {} }));
    } catch (err) {
      setError(t('gateways.rotateFailed', { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(false);
      setConfirming(null);
    }
  }

  async function revoke() {
    setBusy(true);
    setError(null);
    setRevoked(null);
    try {
      setRevoked(await api('POST /api/gateways/:id/certificates/revoke', { params: { id }, body: { fingerprint: fingerprint.trim() } }));
      setFingerprint('');
    } catch (err) {
      setError(t('gateways.revokeFailed', { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(false);
      setConfirming(null);
    }
  }

  async function copy(password: string) {
    try {
      await navigator.clipboard.writeText(password);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }

  const fingerprintValid = new RegExp(`^(?:${FINGERPRINT_PATTERN})$`).test(fingerprint.trim());

  return (
    <section className="card provision" aria-labelledby="gateway-credentials-title" data-testid="gateway-credentials-panel" data-gateway={id}>
      <h2 id="gateway-credentials-title">{t('gateways.credentialsTitle', { id })}</h2>
      <p className="muted hint">{t('gateways.credentialsHint')}</p>
      {error && (
        <p className="error" role="alert" data-testid="gateway-credentials-error">
          {error}
        </p>
      )}

      <h3>{t('gateways.rotateTitle')}</h3>
      {confirming === 'rotate' ? (
        <div className="row" role="group" data-testid="rotate-confirmation">
          <p className="notice">{t('gateways.rotateConfirm', { id })}</p>
          <button type="button" className="primary" disabled={busy} onClick={() => void rotate()} data-testid="rotate-confirm">
            {t('gateways.confirm')}
          </button>
          <button type="button" disabled={busy} onClick={() => setConfirming(null)} data-testid="rotate-cancel">
            {t('gateways.cancel')}
          </button>
        </div>
      ) : (
        <button type="button" disabled={busy} onClick={() => setConfirming('rotate')} data-testid="rotate-password">
          {t('gateways.rotate')}
        </button>
      )}
      {rotated && (
        <div className="secret" data-testid="rotate-result">
          <p>{t('gateways.rotated', { id: rotated.id, n: rotated.disconnected })}</p>
          <code className="mono" data-testid="rotate-password-value">
            {rotated.password}
          </code>{' '}
          <button type="button" onClick={() => void copy(rotated.password)} data-testid="rotate-copy">
            {copied ? t('gateways.copied') : t('gateways.copy')}
          </button>{' '}
          <button type="button" onClick={() => setRotated(null)} data-testid="rotate-hide">
            {t('gateways.hidePassword')}
          </button>
          {copied === false && <p className="muted hint">{t('gateways.copyFailed')}</p>}
        </div>
      )}

      <h3>{t('gateways.revokeTitle')}</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (fingerprintValid) setConfirming('revoke');
        }}
      >
        <div className="row">
          <label>
            {t('gateways.fingerprint')}
            <input
              required
              size={70}
              maxLength={95}
              pattern={FINGERPRINT_PATTERN}
              value={fingerprint}
              onChange={(e) => {
                setFingerprint(e.target.value);
                setConfirming(null);
              }}
              title={t('gateways.fingerprintHint')}
              className="mono"
              data-testid="revoke-fingerprint"
            />
          </label>
          {confirming !== 'revoke' && (
            <button type="submit" disabled={busy || !fingerprintValid} data-testid="revoke-certificate">
              {t('gateways.revoke')}
            </button>
          )}
        </div>
        <p className="muted hint">{t('gateways.fingerprintHint')}</p>
      </form>
      {confirming === 'revoke' && (
        <div className="row" role="group" data-testid="revoke-confirmation">
          <p className="notice">{t('gateways.revokeConfirm', { id, fingerprint: fingerprint.trim() })}</p>
          <button type="button" className="primary" disabled={busy} onClick={() => void revoke()} data-testid="revoke-confirm">
            {t('gateways.confirm')}
          </button>
          <button type="button" disabled={busy} onClick={() => setConfirming(null)} data-testid="revoke-cancel">
            {t('gateways.cancel')}
          </button>
        </div>
      )}
      {revoked && (
        <p className="notice" role="status" data-testid="revoke-result">
          {t('gateways.revoked', { fingerprint: revoked.fingerprint, n: revoked.disconnected })}
        </p>
      )}

      <p>
        <button type="button" onClick={onClose} data-testid="gateway-credentials-close">
          {t('gateways.close')}
        </button>
      </p>
    </section>
  );
}
