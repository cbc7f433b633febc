import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { hubPath } from '../api/client.ts';
import type { Anomalies, Anomaly } from '@warden/contract';
import { fullTime } from '../lib/format.ts';
import { addDays, anomalyRules, dayStart, fillTemplate, filterAnomalies, formatNumber, fromDateInput, toDateInput } from '../lib/energy.ts';
import { useHubGet } from '../state/fetch.ts';

/** Energy anomalies of a period: each alert with the hub's explanation and its numbers, filtered by rule and text. */
export function EnergyAnomaliesPage() {
  const { t, i18n } = useTranslation();
  const [now] = useState(() => Date.now());
  const [fromS, setFrom] = useState(() => toDateInput(addDays(dayStart(now), -6)));
  const [toS, setTo] = useState(() => toDateInput(now));
  const [rule, setRule] = useState('');
  const [q, setQ] = useState('');
  const [answer, setAnswer] = useState<Anomalies | null>(null);
  const from = fromDateInput(fromS);
  const toDay = fromDateInput(toS);
  const path = from !== null && toDay !== null && from <= toDay ? hubPath('GET /api/energy/anomalies', { query: { from, to: Math.min(addDays(toDay, 1), Math.max(now, from + 1)) } }) : null;
  const fetched = useHubGet(path, setAnswer);
  const rules = useMemo(() => anomalyRules(answer?.anomalies ?? []), [answer]);
  const shown = useMemo(() => filterAnomalies(answer?.anomalies ?? [], { rule, q }), [answer, rule, q]);
  const ruleLabel = (r: string) => t(`energy.rules.${r}`, { defaultValue: r });
  const explain = (a: Anomaly) =>
    fillTemplate(i18n.getResource(i18n.resolvedLanguage ?? i18n.language, 'translation', `energy.ruleText.${a.rule}`) as string | undefined, a.numbers, (n) => formatNumber(n, i18n.language));

  return (
    <section className="page" aria-labelledby="energy-anomalies-title">
      <div className="page-head">
        <h1 id="energy-anomalies-title">{t('energy.anomaliesTitle')}</h1>
        <label>
          {t('energy.from')} <input type="date" value={fromS} onChange={(e) => setFrom(e.target.value)} data-testid="energy-anomaly-from" />
        </label>
        <label>
          {t('energy.to')} <input type="date" value={toS} onChange={(e) => setTo(e.target.value)} data-testid="energy-anomaly-to" />
        </label>
        <select aria-label={t('energy.rule')} value={rule} onChange={(e) => setRule(e.target.value)} data-testid="energy-anomaly-rule">
          <option value="">{t('energy.allRules')}</option>
          {rules.map((r) => (
            <option key={r} value={r}>
              {ruleLabel(r)}
            </option>
          ))}
        </select>
        <input type="search" placeholder={t('energy.search')} aria-label={t('energy.search')} value={q} onChange={(e) => setQ(e.target.value)} data-testid="energy-anomaly-q" />
        <span className="counts" data-testid="energy-anomaly-count" data-count={shown.length}>
          {shown.length}
        </span>
      </div>
      {fetched.error && (
        <p className="error" role="alert">
          {t('energy.loadFailed', { message: fetched.error })}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="energy-anomalies">
          <thead>
            <tr>
              <th>{t('energy.when')}</th>
              <th>{t('energy.rule')}</th>
              <th>{t('energy.meter')}</th>
              <th>{t('energy.explanation')}</th>
              <th>{t('energy.numbers')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <tr key={`${a.rule}|${a.meter}|${a.from}`} data-testid="energy-anomaly-row" data-rule={a.rule} data-meter={a.meter}>
                <td className="mono">
                  {fullTime(a.from)}
                  <span className="sub">{fullTime(a.to)}</span>
                </td>
                <td>{ruleLabel(a.rule)}</td>
                <td className="mono">
                  <a href={`#/energy/${encodeURIComponent(a.meter)}`}>{a.meter}</a>
                </td>
                <td data-testid="energy-anomaly-message">
                  {explain(a) ?? a.message}
                  {explain(a) !== null && (
                    <span className="sub muted" title={t('energy.hubMessage')}>
                      {a.message}
                    </span>
                  )}
                </td>
                <td>
                  <dl className="energy-numbers" data-testid="energy-anomaly-numbers">
                    {Object.entries(a.numbers).map(([k, v]) => (
                      <div key={k}>
                        <dt>{k}</dt>
                        <dd data-key={k} data-value={v}>
                          {formatNumber(v, i18n.language)}
                        </dd>
                      </div>
                    ))}
                  </dl>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {answer && shown.length === 0 && <p className="empty">{t('energy.anomaliesEmpty')}</p>}
      </div>
      {answer && answer.registerProblems.length > 0 && (
        <div className="card">
          <h2>{t('energy.registerProblems')}</h2>
          <ul>
            {answer.registerProblems.map((p) => (
              <li key={`${p.meter}|${p.from}`} data-testid="energy-register-problem" data-meter={p.meter}>
                <span className="mono">{p.meter}</span> {fullTime(p.from)} – {fullTime(p.to)}: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
