import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AuditEntry } from '@warden/contract';
import { AUDIT_FILTERS, auditDetailText, auditPath, type AuditFilter } from '../lib/audit.ts';
import { fullTime } from '../lib/format.ts';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet } from '../state/fetch.ts';

/**
 * The audit trail, newest first: who changed what and when. The hub decides what a user reads (admin: every entry;
 * facilities: schedule and demand-limit entries); the filter narrows it further.
 */
export function AuditPage() {
  const { t } = useTranslation();
  const { user } = useSignedIn();
  const [filter, setFilter] = useState<AuditFilter>('all');
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const fetched = useHubGet(auditPath(filter), (d) => setEntries(d.entries));
  const isAdmin = user.roles.includes('admin');

  return (
    <section className="page" aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">{t('audit.title')}</h1>
        <label>
          {t('audit.filter')}{' '}
          <select value={filter} onChange={(e) => setFilter(e.target.value as AuditFilter)} data-testid="audit-filter">
            {(Object.keys(AUDIT_FILTERS) as AuditFilter[]).map((f) => (
              <option key={f} value={f}>
                {t(`audit.filters.${f}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={fetched.reload} data-testid="audit-reload">
          ↻
        </button>
      </div>
      {!isAdmin && <p className="muted hint">{t('audit.scopeHint')}</p>}
      {fetched.error && (
        <p className="error" role="alert">
          {t('audit.loadFailed', { message: fetched.error })}
        </p>
      )}
      {entries && entries.length === 0 && <p className="empty">{t('audit.empty')}</p>}
      <div className="table-wrap">
        <table className="table" data-testid="audit-entries">
          <thead>
            <tr>
              <th>{t('audit.time')}</th>
              <th>{t('audit.actor')}</th>
              <th>{t('audit.action')}</th>
              <th>{t('audit.target')}</th>
              <th>{t('audit.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {entries?.map((e) => {
              const detail = auditDetailText(e);
              return (
                <tr key={e.id} data-testid="audit-entry" data-action={e.action} data-actor={e.actor} data-target={e.target ?? ''}>
                  <td>{fullTime(e.ts)}</td>
                  <td className="mono">{e.actor}</td>
                  <td className="mono">{e.action}</td>
                  <td className="mono">{e.target ?? ''}</td>
                  <td className="mono" data-testid="audit-detail">
                    {detail || (e.action === 'schedule.edit' ? t('audit.noChange') : '')}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
