import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { CircuitStatus, Schedules } from '@warden/contract';
import { ScheduleCard } from '../components/ScheduleCard.tsx';
import { fullTime } from '../lib/format.ts';
import { commandState } from '../lib/energy.ts';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet } from '../state/fetch.ts';
import { hubPath } from '../api/client.ts';

/** While a command waits for the actuator's confirmation, the page asks again this often. */
const PENDING_POLL_MS = 1000;

/**
 * Lighting/HVAC schedules: the weekly plans (the hub's config, or as edited here), what each circuit should be now
 * and the last command with its confirmation, and a time-limited manual override per circuit (audited by the hub).
 */
export function EnergySchedulesPage() {
  const { t } = useTranslation();
  const [data, setData] = useState<Schedules | null>(null);
  const fetched = useHubGet(hubPath('GET /api/energy/schedules', {}), setData);
  const pending = data?.circuits.some((c) => commandState(c.sent) === 'pending') ?? false;
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(fetched.reload, PENDING_POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, data, fetched.reload]);

  return (
    <section className="page" aria-labelledby="energy-schedules-title">
      <div className="page-head">
        <h1 id="energy-schedules-title">{t('energy.schedulesTitle')}</h1>
      </div>
      {fetched.error && (
        <p className="error" role="alert">
          {t('energy.loadFailed', { message: fetched.error })}
        </p>
      )}
      {data && data.circuits.length === 0 && <p className="empty">{t('energy.schedulesEmpty')}</p>}
      <div className="table-wrap">
        <table className="table" data-testid="energy-circuits">
          <thead>
            <tr>
              <th>{t('energy.circuit')}</th>
              <th>{t('energy.schedule')}</th>
              <th>{t('energy.wanted')}</th>
              <th>{t('energy.lastCommand')}</th>
              <th>{t('energy.override')}</th>
            </tr>
          </thead>
          <tbody>
            {data?.circuits.map((c) => (
              <CircuitRow key={c.circuit} c={c} onChanged={(s) => setData((d) => d && { ...d, circuits: d.circuits.map((x) => (x.circuit === s.circuit ? s : x)) })} />
            ))}
          </tbody>
        </table>
      </div>
      {data?.schedules.map((s) => (
        <ScheduleCard
          key={s.id}
          s={s}
          onSaved={(schedule, circuits) =>
            setData((d) => d && { schedules: d.schedules.map((x) => (x.id === schedule.id ? schedule : x)), circuits: d.circuits.map((c) => circuits.find((n) => n.circuit === c.circuit) ?? c) })
          }
        />
      ))}
    </section>
  );
}

function CircuitRow({ c, onChanged }: { c: CircuitStatus; onChanged: (s: CircuitStatus) => void }) {
  const { t } = useTranslation();
  const { api } = useSignedIn();
  const [on, setOn] = useState(!c.wanted.on);
  const [level, setLevel] = useState(100);
  const [minutes, setMinutes] = useState(60);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const state = commandState(c.sent);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onChanged(await api('POST /api/energy/schedules/override', { body: { circuit: c.circuit, on, ...(on ? { level } : {}), minutes } }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr data-testid="energy-circuit" data-circuit={c.circuit} data-on={String(c.wanted.on)} data-level={c.wanted.level} data-command={state}>
      <td className="mono">{c.circuit}</td>
      <td className="mono">{c.schedule}</td>
      <td>
        <span className={`badge ${c.wanted.on ? 'badge-on' : 'badge-off'}`}>{c.wanted.on ? t('energy.onLevel', { level: c.wanted.level }) : t('energy.off')}</span>
        <span className="sub" data-testid="energy-circuit-reason">
          {c.wanted.reason}
        </span>
      </td>
      <td data-testid="energy-circuit-command" data-state={state}>
        {c.sent ? (
          <>
            {c.sent.on ? t('energy.onLevel', { level: c.sent.level }) : t('energy.off')} · {t(`energy.commandStates.${state}`)}
            <span className="sub">
              {c.sent.at ? fullTime(c.sent.at) : ''} {c.sent.error ?? ''}
            </span>
          </>
        ) : (
          t('energy.commandStates.none')
        )}
      </td>
      <td>
        <form className="note-form" onSubmit={submit} data-testid="energy-override-form">
          <select aria-label={t('energy.override')} value={on ? 'on' : 'off'} onChange={(e) => setOn(e.target.value === 'on')} data-testid="energy-override-on">
            <option value="on">{t('energy.turnOn')}</option>
            <option value="off">{t('energy.turnOff')}</option>
          </select>
          {on && (
            <input type="number" min={0} max={100} value={level} onChange={(e) => setLevel(Number(e.target.value))} aria-label={t('energy.level')} data-testid="energy-override-level" style={{ width: 60 }} />
          )}
          <input type="number" min={1} max={10080} value={minutes} onChange={(e) => setMinutes(Number(e.target.value))} aria-label={t('energy.minutes')} data-testid="energy-override-minutes" style={{ width: 70 }} />
          <span className="muted">{t('energy.minutes')}</span>
          <button type="submit" disabled={busy} data-testid="energy-override-submit">
            {t('energy.apply')}
          </button>
          {error && (
            <span className="error" role="alert">
              {error}
            </span>
          )}
        </form>
      </td>
    </tr>
  );
}
