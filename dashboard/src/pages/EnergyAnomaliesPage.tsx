import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { hubPath } from '../api/client.ts';
import type { Alarm, Anomalies, Anomaly, Detection } from '@warden/contract';
import { AnomalyChart } from '../components/AnomalyChart.tsx';
import { fullTime } from '../lib/format.ts';
import { addDays, anomalyChartWindow, anomalyKinds, anomalySentence, dayStart, filterAnomalies, formatNumber, fromDateInput, toDateInput } from '../lib/energy.ts';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet } from '../state/fetch.ts';

const PAGE = 20;

/**
 * Energy anomalies of a period, as the hub's detector found them: each alert on its meter's chart with the expected
 * use and the band outside which it alerts, its numbers and its sentence (zh/en), and a "not an anomaly" button
 * (kept by the hub and used: the window leaves the baselines, the same pattern is no longer raised).
 */
export function EnergyAnomaliesPage() {
  const { t } = useTranslation();
  const [now] = useState(() => Date.now());
  const [fromS, setFrom] = useState(() => toDateInput(addDays(dayStart(now), -6)));
  const [toS, setTo] = useState(() => toDateInput(now));
  const [kind, setKind] = useState('');
  const [q, setQ] = useState('');
  const [limit, setLimit] = useState(PAGE);
  const [answer, setAnswer] = useState<Anomalies | null>(null);
  const from = fromDateInput(fromS);
  const toDay = fromDateInput(toS);
  const path = from !== null && toDay !== null && from <= toDay ? hubPath('GET /api/energy/anomalies', { query: { from, to: Math.min(addDays(toDay, 1), Math.max(now, from + 1)) } }) : null;
  const fetched = useHubGet(path, setAnswer);
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  const alarmsFetched = useHubGet(hubPath('GET /api/energy/alarms', { query: { state: 'open' } }), (r) => setAlarms(r.alarms));
  const reload = () => {
    fetched.reload();
    alarmsFetched.reload();
  };
  const kinds = useMemo(() => anomalyKinds(answer?.anomalies ?? []), [answer]);
  const shown = useMemo(() => filterAnomalies(answer?.anomalies ?? [], { kind, q }), [answer, kind, q]);

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
        <select aria-label={t('energy.kind')} value={kind} onChange={(e) => setKind(e.target.value)} data-testid="energy-anomaly-kind">
          <option value="">{t('energy.allKinds')}</option>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {t(`energy.kinds.${k}`, { defaultValue: k })}
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
      <div data-testid="energy-anomalies">
        {shown.slice(0, limit).map((a) => (
          <AnomalyCard key={`${a.kind}|${a.meter}|${a.from}`} a={a} now={now} alarm={alarms.find((x) => x.device === a.meter && x.type === `energy.${a.kind}`) ?? null} onChanged={reload} />
        ))}
      </div>
      {shown.length > limit && (
        <button type="button" onClick={() => setLimit((n) => n + PAGE)} data-testid="energy-anomaly-more">
          {t('energy.showMore', { count: shown.length - limit })}
        </button>
      )}
      {answer && shown.length === 0 && <p className="empty">{t('energy.anomaliesEmpty')}</p>}
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

function AnomalyCard({ a, now, alarm, onChanged }: { a: Anomaly; now: number; alarm: Alarm | null; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const { api } = useSignedIn();
  const [detection, setDetection] = useState<Detection | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const win = anomalyChartWindow(a, now);
  const fetched = useHubGet(hubPath('GET /api/energy/detection', { query: { meter: a.meter, from: win.from, to: win.to } }), setDetection);
  const labels = { value: t('energy.chart.value'), expected: t('energy.chart.expected'), band: t('energy.chart.band'), alert: t('energy.chart.alert') };

  const dismiss = async () => {
    setBusy(true);
    setError(null);
    try {
      await api('POST /api/energy/anomalies/feedback', { body: { meter: a.meter, kind: a.kind, from: a.from, to: a.to, ...(note.trim() ? { note: note.trim() } : {}), ...(alarm ? { alarm: alarm.id } : {}) } });
      setDone(true);
      onChanged();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const acknowledge = async () => {
    if (!alarm) return;
    setBusy(true);
    setError(null);
    try {
      await api('POST /api/energy/alarms/:id/acknowledge', { params: { id: alarm.id }, body: note.trim() ? { note: note.trim() } : {} });
      onChanged();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="card" data-testid="energy-anomaly-row" data-kind={a.kind} data-meter={a.meter} data-from={a.from} data-suppressed={a.suppressedBy ? 'true' : 'false'}>
      <h2>
        {t(`energy.kinds.${a.kind}`, { defaultValue: a.kind })} · <a href={`#/energy/${encodeURIComponent(a.meter)}`} className="mono">{a.meter}</a>
        <span className="sub mono">
          {fullTime(a.from)} – {fullTime(a.to)}
        </span>
      </h2>
      <p data-testid="energy-anomaly-message">{anomalySentence(a, i18n.language)}</p>
      {a.suppressedBy && <p className="muted">{t('energy.suppressed')}</p>}
      {fetched.error && <p className="error">{t('energy.loadFailed', { message: fetched.error })}</p>}
      {detection && <AnomalyChart detection={detection} alert={a} labels={labels} />}
      <dl className="energy-numbers" data-testid="energy-anomaly-numbers">
        {Object.entries(a.numbers).map(([k, v]) => (
          <div key={k}>
            <dt>{t(`energy.numberNames.${k}`, { defaultValue: k })}</dt>
            <dd data-key={k} data-value={v}>
              {formatNumber(v, i18n.language)}
            </dd>
          </div>
        ))}
      </dl>
      {done ? (
        <p className="ok" data-testid="energy-anomaly-dismissed">
          {t('energy.dismissed')}
        </p>
      ) : (
        <div className="row">
          <input type="text" maxLength={500} placeholder={t('energy.dismissNote')} aria-label={t('energy.dismissNote')} value={note} onChange={(e) => setNote(e.target.value)} data-testid="energy-anomaly-note" />
          {alarm && (
            <span className="badge" data-testid="energy-anomaly-alarm" data-alarm={alarm.id} data-state={alarm.state}>
              {t(`energy.alarmStates.${alarm.state}`, { defaultValue: alarm.state })}
            </span>
          )}
          {alarm?.state === 'raised' && (
            <button type="button" disabled={busy} onClick={() => void acknowledge()} data-testid="energy-anomaly-ack">
              {t('energy.acknowledgeAlarm')}
            </button>
          )}
          <button type="button" disabled={busy} onClick={() => void dismiss()} data-testid="energy-anomaly-dismiss">
            {t('energy.notAnomaly')}
          </button>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}
