import { Fragment, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Device, DeviceAdoptBody } from '@warden/contract';
import { hubPath } from '../api/client.ts';
import { ago, fullTime } from '../lib/format.ts';
import { useLabels } from '../lib/labels.ts';
import { useNow } from '../lib/now.ts';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet } from '../state/fetch.ts';

interface Draft {
  kind: string;
  building: string;
  zone: string;
  name: string;
}

/**
 * Device adoption (issues 9 and 10): devices a gateway's inventory proposed — cameras found by WS-Discovery among
 * them — wait here until an admin adopts them with their kind, building and zone (POST /api/devices/:id/adopt,
 * audited). Until then the hub refuses their records. An admin may reject a proposal with a reason
 * (POST /api/devices/:id/reject, audited): it stays refused and its gateway's inventories no longer propose it; the
 * rejected devices are listed below the proposals, where a rejection can be undone (POST /api/devices/:id/unreject).
 */
export function ProposalsPage() {
  const { t, i18n } = useTranslation();
  const labels = useLabels();
  const now = useNow();
  const { api } = useSignedIn();
  const [proposals, setProposals] = useState<Device[]>([]);
  const [rejectedDevices, setRejectedDevices] = useState<Device[]>([]);
  /** The proposal whose reject form is open, and the reason typed so far. */
  const [rejecting, setRejecting] = useState<{ id: string; reason: string } | null>(null);
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const fetched = useHubGet(hubPath('GET /api/devices', { query: { status: 'proposed' } }), (d) => setProposals(d.devices));
  const fetchedRejected = useHubGet(hubPath('GET /api/devices', { query: { status: 'rejected' } }), (d) => setRejectedDevices(d.devices));
  const reload = () => {
    fetched.reload();
    fetchedRejected.reload();
  };
  const kinds = useMemo(() => Object.keys((i18n.getResource(i18n.language, 'translation', 'deviceKinds') as Record<string, string> | undefined) ?? {}), [i18n, i18n.language]);

  const draftOf = (d: Device): Draft => drafts[d.id] ?? { kind: d.kind, building: d.building ?? '', zone: d.zone ?? '', name: d.name ?? '' };
  const edit = (d: Device, patch: Partial<Draft>) => setDrafts((cur) => ({ ...cur, [d.id]: { ...draftOf(d), ...patch } }));

  const adopt = async (d: Device) => {
    const draft = draftOf(d);
    setBusy(d.id);
    setMessage(null);
    try {
      const body = {
        kind: draft.kind as DeviceAdoptBody['kind'],
        ...(draft.building.trim() ? { building: draft.building.trim() } : {}),
        ...(draft.zone.trim() ? { zone: draft.zone.trim() } : {}),
        ...(draft.name.trim() ? { name: draft.name.trim() } : {}),
      };
      await api('POST /api/devices/:id/adopt', { params: { id: d.id }, body });
      setMessage({ ok: true, text: t('proposals.adopted', { id: d.id }) });
      reload();
    } catch (err) {
      setMessage({ ok: false, text: t('proposals.failed', { message: (err as Error).message }) });
    } finally {
      setBusy(null);
    }
  };

  const reject = async (e: FormEvent) => {
    e.preventDefault();
    if (!rejecting || !rejecting.reason.trim()) return;
    const { id } = rejecting;
    setBusy(id);
    setMessage(null);
    try {
      await api('POST /api/devices/:id/reject', { params: { id }, body: { reason: rejecting.reason.trim() } });
      setMessage({ ok: true, text: t('proposals.rejectDone', { id }) });
      setRejecting(null);
      reload();
    } catch (err) {
      setMessage({ ok: false, text: t('proposals.rejectFailed', { message: (err as Error).message }) });
    } finally {
      setBusy(null);
    }
  };

  const unreject = async (d: Device) => {
    setBusy(d.id);
    setMessage(null);
    try {
      await api('POST /api/devices/:id/unreject', { params: { id: d.id } });
      setMessage({ ok: true, text: t('proposals.unrejectDone', { id: d.id }) });
      reload();
    } catch (err) {
      setMessage({ ok: false, text: t('proposals.unrejectFailed', { message: (err as Error).message }) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="page" aria-labelledby="proposals-title">
      <div className="page-head">
        <h1 id="proposals-title">{t('proposals.title')}</h1>
        <span className="counts" data-testid="proposal-count" data-total={proposals.length}>
          {t('proposals.count', { count: proposals.length })}
        </span>
      </div>
      <p className="muted">{t('proposals.hint')}</p>
      {message && (
        <p className={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="proposal-message">
          {message.text}
        </p>
      )}
      {fetched.error && (
        <p className="error" role="alert">
          {t('proposals.loadFailed', { message: fetched.error })}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="proposals-table">
          <thead>
            <tr>
              <th>{t('proposals.device')}</th>
              <th>{t('proposals.gateway')}</th>
              <th>{t('proposals.address')}</th>
              <th>{t('proposals.seen')}</th>
              <th>{t('proposals.kind')}</th>
              <th>{t('proposals.building')}</th>
              <th>{t('proposals.zone')}</th>
              <th>{t('proposals.name')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {proposals.map((d) => {
              const draft = draftOf(d);
              return (
                <Fragment key={d.id}>
                  <tr data-testid="proposal-row" data-device={d.id}>
                    <td>
                      <span className="mono">{d.id}</span>
                      <span className="sub muted">{labels.deviceKind(d.kind)}{d.name ? ` · ${d.name}` : ''}</span>
                    </td>
                    <td className="mono">{d.gateway}</td>
                    <td className="mono" data-testid="proposal-address">{d.location ?? '—'}</td>
                    <td title={d.lastSeen ? fullTime(d.lastSeen) : undefined}>{ago(d.lastSeen, t, now)}</td>
                    <td>
                      <select aria-label={t('proposals.kind')} value={draft.kind} onChange={(e) => edit(d, { kind: e.target.value })} data-testid="proposal-kind">
                        {kinds.map((k) => (
                          <option key={k} value={k}>
                            {labels.deviceKind(k)}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <input aria-label={t('proposals.building')} value={draft.building} maxLength={64} onChange={(e) => edit(d, { building: e.target.value })} data-testid="proposal-building" />
                    </td>
                    <td>
                      <input aria-label={t('proposals.zone')} value={draft.zone} maxLength={64} onChange={(e) => edit(d, { zone: e.target.value })} data-testid="proposal-zone" />
                    </td>
                    <td>
                      <input aria-label={t('proposals.name')} value={draft.name} maxLength={200} onChange={(e) => edit(d, { name: e.target.value })} data-testid="proposal-name" />
                    </td>
                    <td>
                      <div style={{ display: 'flex', flexDirection: 'column', gap: '0.35rem', whiteSpace: 'nowrap' }}>
                        <button type="button" disabled={busy !== null || !draft.building.trim()} onClick={() => void adopt(d)} data-testid="proposal-adopt">
                          {t('proposals.adopt')}
                        </button>
                        <button
                          type="button"
                          disabled={busy !== null}
                          aria-expanded={rejecting?.id === d.id}
                          onClick={() => setRejecting(rejecting?.id === d.id ? null : { id: d.id, reason: '' })}
                          data-testid="proposal-reject"
                        >
                          {t('proposals.reject')}
                        </button>
                      </div>
                    </td>
                  </tr>
                  {rejecting?.id === d.id && (
                    <tr data-testid="proposal-reject-row" data-device={d.id}>
                      <td colSpan={9}>
                        <form onSubmit={(e) => void reject(e)} style={{ display: 'flex', flexWrap: 'wrap', gap: '0.5rem', alignItems: 'center' }} data-testid="proposal-reject-form">
                          <label style={{ display: 'flex', flexWrap: 'wrap', gap: '0.5rem', alignItems: 'center' }}>
                            {t('proposals.rejectReason', { id: d.id })}
                            <input
                              required
                              autoFocus
                              maxLength={500}
                              size={40}
                              value={rejecting.reason}
                              placeholder={t('proposals.rejectReasonHint')}
                              onChange={(e) => setRejecting({ id: d.id, reason: e.target.value })}
                              data-testid="proposal-reject-reason"
                            />
                          </label>
                          <button type="submit" className="primary" disabled={busy !== null || !rejecting.reason.trim()} data-testid="proposal-reject-confirm">
                            {t('proposals.rejectConfirm')}
                          </button>
                          <button type="button" onClick={() => setRejecting(null)} data-testid="proposal-reject-cancel">
                            {t('proposals.cancel')}
                          </button>
                          <span className="sub muted" style={{ flexBasis: '100%', whiteSpace: 'normal' }}>
                            {t('proposals.rejectHint')}
                          </span>
                        </form>
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
        {!fetched.loading && proposals.length === 0 && <p className="empty">{t('proposals.empty')}</p>}
        {fetched.loading && proposals.length === 0 && <p className="empty">{t('common.loading')}</p>}
      </div>

      <h2 id="rejected-title">{t('proposals.rejectedTitle', { count: rejectedDevices.length })}</h2>
      <p className="muted">{t('proposals.rejectedHint')}</p>
      {fetchedRejected.error && (
        <p className="error" role="alert">
          {t('proposals.loadFailed', { message: fetchedRejected.error })}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" aria-labelledby="rejected-title" data-testid="rejected-table" data-total={rejectedDevices.length}>
          <thead>
            <tr>
              <th>{t('proposals.device')}</th>
              <th>{t('proposals.gateway')}</th>
              <th>{t('proposals.reason')}</th>
              <th>{t('proposals.rejectedBy')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rejectedDevices.map((d) => (
              <tr key={d.id} data-testid="rejected-row" data-device={d.id}>
                <td>
                  <span className="mono">{d.id}</span>
                  <span className="sub muted">{labels.deviceKind(d.kind)}{d.name ? ` · ${d.name}` : ''}</span>
                </td>
                <td className="mono">{d.gateway}</td>
                <td data-testid="rejected-reason">{d.rejection?.reason ?? '—'}</td>
                <td title={d.rejection ? fullTime(d.rejection.at) : undefined}>
                  {d.rejection ? t('proposals.rejectedByWhen', { by: d.rejection.by, when: ago(d.rejection.at, t, now) }) : '—'}
                </td>
                <td>
                  <button type="button" disabled={busy !== null} onClick={() => void unreject(d)} data-testid="rejected-unreject">
                    {t('proposals.unreject')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!fetchedRejected.loading && rejectedDevices.length === 0 && <p className="empty">{t('proposals.rejectedEmpty')}</p>}
      </div>
    </section>
  );
}
