import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { CircuitStatus, WeeklySchedule as WeeklyScheduleConfig } from '@warden/contract';
import { WEEKDAYS } from '../api/values.ts';
import { periodsText } from '../lib/energy.ts';
import { fullTime } from '../lib/format.ts';
import { editedPlan, weekText, type WeekText } from '../lib/schedule-edit.ts';
import { useSignedIn } from '../state/auth.tsx';

/**
 * One weekly schedule: its term (and vacation) plan per weekday, holiday exceptions, and an editor that replaces
 * the plan on the hub (PUT /api/energy/schedules/:id). The hub applies it at once; the circuits table above shows
 * the resulting commands going from awaiting confirmation to confirmed.
 */
export function ScheduleCard({ s, onSaved }: { s: WeeklyScheduleConfig; onSaved: (schedule: WeeklyScheduleConfig, circuits: CircuitStatus[]) => void }) {
  const { t } = useTranslation();
  const { api } = useSignedIn();
  const [editing, setEditing] = useState<{ term: WeekText; vacation: WeekText | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);

  const startEdit = () => {
    setMessage(null);
    setEditing({ term: weekText(s.term), vacation: s.vacation ? weekText(s.vacation) : null });
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    const plan = editedPlan(s, editing.term, editing.vacation);
    if (!plan.ok) return setMessage({ error: true, text: t('energy.planInvalid', { days: plan.bad.join(', ') }) });
    setBusy(true);
    setMessage(null);
    try {
      const r = await api('PUT /api/energy/schedules/:id', { params: { id: s.id }, body: plan.plan });
      onSaved(r.schedule, r.circuits);
      setEditing(null);
      setMessage({ error: false, text: t('energy.planSaved') });
    } catch (err) {
      setMessage({ error: true, text: t('energy.saveFailed', { message: err instanceof Error ? err.message : String(err) }) });
    } finally {
      setBusy(false);
    }
  };

  const row = (name: 'term' | 'vacation', label: string) => {
    const shown = name === 'term' ? s.term : s.vacation;
    const text = editing?.[name];
    return (
      <tr>
        <th>{label}</th>
        {WEEKDAYS.map((d) => (
          <td key={d} className="mono" data-day={d}>
            {text ? (
              <input
                value={text[d]}
                onChange={(ev) => setEditing((cur) => cur && { ...cur, [name]: { ...cur[name]!, [d]: ev.target.value } })}
                aria-label={`${label} ${t(`energy.weekdays.${d}`)}`}
                data-testid="energy-schedule-input"
                data-plan={name}
                data-day={d}
                style={{ width: '100%', minWidth: 90 }}
              />
            ) : (
              periodsText(shown?.[d])
            )}
          </td>
        ))}
      </tr>
    );
  };

  return (
    <div className="card" data-testid="energy-schedule" data-schedule={s.id}>
      <h2>
        {s.id} <span className="muted">{s.circuits.join(', ')}</span>
      </h2>
      {s.edited && (
        <p className="muted" data-testid="energy-schedule-edited">
          {t('energy.editedBy', { by: s.edited.by, time: fullTime(s.edited.at) })}
        </p>
      )}
      <form onSubmit={save}>
        <table className="table">
          <thead>
            <tr>
              <th />
              {WEEKDAYS.map((d) => (
                <th key={d}>{t(`energy.weekdays.${d}`)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {row('term', t('energy.term'))}
            {s.vacation && row('vacation', t('energy.vacation'))}
          </tbody>
        </table>
        {editing ? (
          <p>
            <span className="muted hint">{t('energy.planFormatHint')}</span>{' '}
            <button type="submit" disabled={busy} data-testid="energy-schedule-save">
              {t('energy.savePlan')}
            </button>{' '}
            <button type="button" onClick={() => setEditing(null)} disabled={busy}>
              {t('energy.cancelEdit')}
            </button>
          </p>
        ) : (
          <p>
            <button type="button" onClick={startEdit} data-testid="energy-schedule-edit">
              {t('energy.editPlan')}
            </button>
          </p>
        )}
        {message && (
          <p className={message.error ? 'error' : 'muted'} role={message.error ? 'alert' : 'status'} data-testid="energy-schedule-message">
            {message.text}
          </p>
        )}
      </form>
      {s.exceptions && s.exceptions.length > 0 && (
        <ul>
          {s.exceptions.map((e) => (
            <li key={e.date} className="mono">
              {e.date}: {e.as ? t('energy.asWeekday', { day: t(`energy.weekdays.${e.as}`) }) : periodsText(e.periods)}
            </li>
          ))}
        </ul>
      )}
      <p className="muted hint">{t('energy.scheduleConfigHint')}</p>
    </div>
  );
}
