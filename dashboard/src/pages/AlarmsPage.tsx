import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Alarm, AlarmDetail, AlarmState, HubEvent, Role } from '@warden/contract';
import { hubPath } from '../api/client.ts';
import { DoorControls } from '../components/DoorControls.tsx';
import { useAlarmLabels } from '../lib/alarmLabels.ts';
import { alarmIdFromHash, filterAlarms, PRIORITIES, sortAlarms } from '../lib/alarms.ts';
import { formatTime, fullTime } from '../lib/format.ts';
import { useNow } from '../lib/now.ts';
import { useAlarms } from '../state/alarms.tsx';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet } from '../state/fetch.ts';
import { useLiveBatch } from '../state/live.tsx';
import { SnapshotStrip } from '../components/SnapshotStrip.tsx';

const ACT_ROLES: readonly Role[] = ['admin', 'security'];

function useCanAct(): boolean {
  const { user } = useSignedIn();
  return user.roles.some((r) => ACT_ROLES.includes(r));
}

function useAlarmHash(): string | null {
  const [id, setId] = useState(() => alarmIdFromHash(location.hash));
  useEffect(() => {
    const onChange = () => setId(alarmIdFromHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return id;
}

export function AlarmsPage() {
  const id = useAlarmHash();
  return id ? <AlarmDetailView key={id} id={id} /> : <AlarmLists />;
}

type Tab = 'active' | 'acknowledged' | 'history';

function AlarmLists() {
  const { t } = useTranslation();
  const [tab, setTab] = useState<Tab>('active');
  const [priority, setPriority] = useState('');
  const [type, setType] = useState('');
  const [q, setQ] = useState('');
  const center = useAlarms();
  const labels = useAlarmLabels();
  const counts = { active: center.open.filter((a) => a.state === 'raised').length, acknowledged: center.open.filter((a) => a.state === 'acknowledged').length };
  const types = useMemo(() => [...new Set(center.open.map((a) => a.type))].sort(), [center.open]);

  return (
    <section className="page" aria-labelledby="alarms-title">
      <div className="page-head">
        <h1 id="alarms-title">{t('alarms.title')}</h1>
        <div className="tabs" role="tablist">
          {(['active', 'acknowledged', 'history'] as const).map((k) => (
            <button key={k} type="button" role="tab" aria-selected={tab === k} className={tab === k ? 'active' : undefined} data-testid={`alarm-tab-${k}`} onClick={() => setTab(k)}>
              {t(`alarms.tabs.${k}`)}
              {k !== 'history' && <span className="tab-count">{counts[k]}</span>}
            </button>
          ))}
        </div>
      </div>
      <div className="filters">
        <select aria-label={t('alarms.filter.priority')} value={priority} onChange={(e) => setPriority(e.target.value)} data-testid="alarm-filter-priority">
          <option value="">{t('alarms.filter.allPriorities')}</option>
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {labels.priority(p)}
            </option>
          ))}
        </select>
        <select aria-label={t('alarms.filter.type')} value={type} onChange={(e) => setType(e.target.value)} data-testid="alarm-filter-type">
          <option value="">{t('alarms.filter.allTypes')}</option>
          {[...new Set([...types, ...Object.keys(ALARM_TYPE_KEYS)])].map((k) => (
            <option key={k} value={k}>
              {labels.type({ type: k, title: k })}
            </option>
          ))}
        </select>
        <input type="search" placeholder={t('alarms.filter.search')} aria-label={t('alarms.filter.search')} value={q} onChange={(e) => setQ(e.target.value)} data-testid="alarm-filter-q" />
      </div>
      {center.error && (
        <p className="error" role="alert">
          {t('alarms.loadFailed', { message: center.error })}
        </p>
      )}
      {tab === 'history' ? (
        <AlarmHistory priority={priority} type={type} q={q} />
      ) : (
        <OpenAlarms state={tab === 'active' ? 'raised' : 'acknowledged'} filter={{ priority, type, q }} />
      )}
    </section>
  );
}

/** Known alarm types, for the type filter before any alarm of that type has been seen. */
const ALARM_TYPE_KEYS: Record<string, true> = {
  'fire.alarm': true,
  'emergency.call': true,
  'intrusion.alarm': true,
  'door.forced': true,
  'turnstile.tailgating': true,
  'device.offline': true,
  'gateway.offline': true,
};

function OpenAlarms({ state, filter }: { state: 'raised' | 'acknowledged'; filter: { priority: string; type: string; q: string } }) {
  const { t } = useTranslation();
  const center = useAlarms();
  const canAct = useCanAct();
  const labels = useAlarmLabels();
  const now = useNow();
  const rows = useMemo(() => sortAlarms(filterAlarms(center.open, { ...filter, state })), [center.open, filter, state]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkNote, setBulkNote] = useState('');
  const [bulkError, setBulkError] = useState<string | null>(null);
  const [acting, setActing] = useState<{ id: string; kind: 'ack' | 'resolve' } | null>(null);
  const visibleSelected = rows.filter((a) => selected.has(a.id)).map((a) => a.id);

  const bulkAck = async (e: FormEvent) => {
    e.preventDefault();
    setBulkError(null);
    try {
      await center.acknowledgeMany(visibleSelected, bulkNote.trim());
      setSelected(new Set());
      setBulkNote('');
    } catch (err) {
      setBulkError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <>
      {canAct && state === 'raised' && rows.length > 0 && (
        <form className="bulk" onSubmit={bulkAck} data-testid="alarm-bulk">
          <label>
            <input
              type="checkbox"
              data-testid="alarm-select-all"
              checked={visibleSelected.length === rows.length}
              onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((a) => a.id)) : new Set())}
            />{' '}
            {t('alarms.selectAll')}
          </label>
          <input type="text" placeholder={t('alarms.note')} value={bulkNote} onChange={(e) => setBulkNote(e.target.value)} maxLength={1000} data-testid="alarm-bulk-note" />
          <button type="submit" disabled={visibleSelected.length === 0} data-testid="alarm-bulk-ack">
            {t('alarms.bulkAck', { n: visibleSelected.length })}
          </button>
          {bulkError && <span className="error">{bulkError}</span>}
        </form>
      )}
      <div className="table-wrap">
        <table className="table" data-testid={state === 'raised' ? 'alarms-active' : 'alarms-acknowledged'}>
          <thead>
            <tr>
              {canAct && state === 'raised' && <th aria-label={t('alarms.select')} />}
              <th>{t('alarms.col.priority')}</th>
              <th>{t('alarms.col.alarm')}</th>
              <th>{t('alarms.col.device')}</th>
              <th className="hide-narrow">{t('alarms.col.where')}</th>
              <th>{t('alarms.col.time')}</th>
              <th>{t('alarms.col.count')}</th>
              <th>{t('alarms.col.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.id} className={`alarm-row prio-${a.priority}`} data-testid="alarm-row" data-alarm={a.id} data-priority={a.priority} data-state={a.state} data-type={a.type} data-device={a.device}>
                {canAct && state === 'raised' && (
                  <td>
                    <input
                      type="checkbox"
                      aria-label={t('alarms.select')}
                      data-testid="alarm-select"
                      checked={selected.has(a.id)}
                      onChange={(e) =>
                        setSelected((cur) => {
                          const next = new Set(cur);
                          if (e.target.checked) next.add(a.id);
                          else next.delete(a.id);
                          return next;
                        })
                      }
                    />
                  </td>
                )}
                <td>
                  <span className={`prio prio-${a.priority}`}>{labels.priority(a.priority)}</span>
                </td>
                <td>
                  <a href={`#/alarms/${encodeURIComponent(a.id)}`} data-testid="alarm-open">
                    {labels.type(a)}
                  </a>
                  {a.latching && <span className="sub muted">{t('alarms.latching')}</span>}
                  {a.conditionCleared && <span className="sub muted">{t('alarms.conditionCleared')}</span>}
                  {a.escalatedTo && <span className="sub warn">{t('alarms.escalated', { role: t(`roles.${a.escalatedTo}`, { defaultValue: a.escalatedTo }) })}</span>}
                </td>
                <td className="mono">{a.device}</td>
                <td className="hide-narrow">{[a.building, a.zone].filter(Boolean).join(' / ')}</td>
                <td title={fullTime(a.firstAt)}>{formatTime(a.lastAt, now)}</td>
                <td>{a.count}</td>
                <td className="actions">
                  {canAct && a.state === 'raised' && (
                    <button type="button" data-testid="alarm-ack" onClick={() => setActing({ id: a.id, kind: 'ack' })}>
                      {t('alarms.acknowledge')}
                    </button>
                  )}
                  {canAct && (
                    <button type="button" data-testid="alarm-resolve" onClick={() => setActing({ id: a.id, kind: 'resolve' })}>
                      {t('alarms.resolve')}
                    </button>
                  )}
                  {acting?.id === a.id && <NoteForm kind={acting.kind} alarm={a} onDone={() => setActing(null)} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!center.loading && rows.length === 0 && (
          <p className="empty" data-testid="alarms-empty">
            {t(state === 'raised' ? 'alarms.emptyActive' : 'alarms.emptyAcknowledged')}
          </p>
        )}
      </div>
    </>
  );
}

/** Acknowledge (note optional) or resolve (note required) one alarm. */
function NoteForm({ kind, alarm, onDone }: { kind: 'ack' | 'resolve'; alarm: Alarm; onDone: () => void }) {
  const { t } = useTranslation();
  const center = useAlarms();
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (kind === 'resolve' && !note.trim()) return setError(t('alarms.noteRequired'));
    setBusy(true);
    setError(null);
    try {
      if (kind === 'ack') await center.acknowledge(alarm.id, note.trim());
      else await center.resolve(alarm.id, note.trim());
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <form className="note-form" onSubmit={submit} data-testid="alarm-note-form" data-kind={kind}>
      <input
        type="text"
        autoFocus
        placeholder={t(kind === 'ack' ? 'alarms.noteOptional' : 'alarms.noteRequiredPlaceholder')}
        value={note}
        maxLength={1000}
        onChange={(e) => setNote(e.target.value)}
        data-testid="alarm-note"
      />
      <button type="submit" disabled={busy} data-testid="alarm-note-submit">
        {t(kind === 'ack' ? 'alarms.acknowledge' : 'alarms.resolve')}
      </button>
      <button type="button" onClick={onDone}>
        {t('alarms.cancel')}
      </button>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

/** Every alarm (any state) from the hub, searchable, with who acknowledged and resolved it. */
function AlarmHistory({ priority, type, q }: { priority: string; type: string; q: string }) {
  const { t } = useTranslation();
  const labels = useAlarmLabels();
  const now = useNow();
  const [state, setState] = useState<'' | 'open' | AlarmState>('');
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  const path = hubPath('GET /api/alarms', { query: { limit: 200, priority, type, q: q.trim() || undefined, state: state || undefined } });
  const fetched = useHubGet(path, (page) => setAlarms(page.alarms));
  // Any change to an alarm may move it in or out of this page: fetch again (batched by the feed).
  useLiveBatch('alarm', fetched.reload, 500);
  return (
    <>
      <div className="filters">
        <select aria-label={t('alarms.filter.state')} value={state} onChange={(e) => setState(e.target.value as typeof state)} data-testid="history-filter-state">
          <option value="">{t('alarms.filter.allStates')}</option>
          {['raised', 'acknowledged', 'resolved'].map((s) => (
            <option key={s} value={s}>
              {labels.state(s)}
            </option>
          ))}
        </select>
      </div>
      {fetched.error && (
        <p className="error" role="alert">
          {t('alarms.loadFailed', { message: fetched.error })}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="alarms-history">
          <thead>
            <tr>
              <th>{t('alarms.col.time')}</th>
              <th>{t('alarms.col.priority')}</th>
              <th>{t('alarms.col.alarm')}</th>
              <th>{t('alarms.col.device')}</th>
              <th>{t('alarms.col.state')}</th>
              <th>{t('alarms.col.acknowledgedBy')}</th>
              <th>{t('alarms.col.resolvedBy')}</th>
            </tr>
          </thead>
          <tbody>
            {alarms.map((a) => (
              <tr key={a.id} className={`prio-${a.priority}`} data-testid="history-row" data-alarm={a.id} data-state={a.state}>
                <td title={fullTime(a.firstAt)}>{formatTime(a.firstAt, now)}</td>
                <td>
                  <span className={`prio prio-${a.priority}`}>{labels.priority(a.priority)}</span>
                </td>
                <td>
                  <a href={`#/alarms/${encodeURIComponent(a.id)}`}>{labels.type(a)}</a>
                </td>
                <td className="mono">{a.device}</td>
                <td>{labels.state(a.state)}</td>
                <td data-testid="history-ack-by">
                  {a.acknowledgedBy ?? '—'}
                  {a.ackNote && <span className="sub muted">{a.ackNote}</span>}
                </td>
                <td data-testid="history-resolved-by">
                  {a.resolvedBy ?? '—'}
                  {a.resolveNote && <span className="sub muted">{a.resolveNote}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!fetched.loading && alarms.length === 0 && <p className="empty">{t('alarms.emptyHistory')}</p>}
      </div>
    </>
  );
}

function AlarmDetailView({ id }: { id: string }) {
  const { t } = useTranslation();
  const labels = useAlarmLabels();
  const canAct = useCanAct();
  const [alarm, setAlarm] = useState<AlarmDetail | null>(null);
  const fetched = useHubGet(hubPath('GET /api/alarms/:id', { params: { id } }), setAlarm);
  useLiveBatch('alarm', (msgs) => {
    if (msgs.some((m) => m.id === id)) fetched.reload();
  });
  useLiveBatch('linkage', (msgs) => {
    if (msgs.some((m) => m.alarmId === id)) fetched.reload();
  });
  const [acting, setActing] = useState<'ack' | 'resolve' | null>(null);
  const isDoor = alarm && (alarm.type.startsWith('door.') || alarm.type.startsWith('access.'));

  return (
    <section className="page" aria-labelledby="alarm-title" data-testid="alarm-detail" data-alarm={id} data-state={alarm?.state}>
      <p>
        <a href="#/alarms" data-testid="alarm-back">
          ← {t('alarms.back')}
        </a>
      </p>
      {fetched.error && (
        <p className="error" role="alert">
          {t('alarms.loadFailed', { message: fetched.error })}
        </p>
      )}
      {alarm && (
        <>
          <div className="page-head">
            <h1 id="alarm-title">
              <span className={`prio prio-${alarm.priority}`}>{labels.priority(alarm.priority)}</span> {labels.type(alarm)}
            </h1>
            <span className="badge" data-testid="alarm-state">
              {labels.state(alarm.state)}
            </span>
          </div>
          <dl className="facts">
            <dt>{t('alarms.col.device')}</dt>
            <dd className="mono">{alarm.device}</dd>
            <dt>{t('alarms.col.where')}</dt>
            <dd>{[alarm.building, alarm.zone].filter(Boolean).join(' / ') || '—'}</dd>
            <dt>{t('alarms.firstAt')}</dt>
            <dd>{fullTime(alarm.firstAt)}</dd>
            <dt>{t('alarms.col.count')}</dt>
            <dd>{alarm.count}</dd>
            {alarm.credential && (
              <>
                <dt>{t('alarms.credential')}</dt>
                <dd className="mono">{alarm.credential}</dd>
              </>
            )}
            <dt>{t('alarms.col.acknowledgedBy')}</dt>
            <dd>{alarm.acknowledgedBy ? `${alarm.acknowledgedBy}${alarm.ackNote ? ` — ${alarm.ackNote}` : ''}` : '—'}</dd>
            <dt>{t('alarms.col.resolvedBy')}</dt>
            <dd>{alarm.resolvedBy ? `${alarm.resolvedBy}${alarm.resolveNote ? ` — ${alarm.resolveNote}` : ''}` : '—'}</dd>
          </dl>
          {canAct && alarm.state !== 'resolved' && (
            <div className="actions">
              {alarm.state === 'raised' && (
                <button type="button" data-testid="alarm-ack" onClick={() => setActing('ack')}>
                  {t('alarms.acknowledge')}
                </button>
              )}
              <button type="button" data-testid="alarm-resolve" onClick={() => setActing('resolve')}>
                {t('alarms.resolve')}
              </button>
              {acting && (
                <NoteForm
                  kind={acting}
                  alarm={alarm}
                  onDone={() => {
                    setActing(null);
                    fetched.reload();
                  }}
                />
              )}
            </div>
          )}
          {isDoor && <DoorControls device={alarm.device} />}
          {alarm.type.startsWith('fire.') && <GatewayFailsafe device={alarm.device} since={alarm.firstAt} />}
          <h2>{t('alarms.cameras')}</h2>
          {alarm.cameras.length ? (
            <ul className="cameras" data-testid="alarm-cameras">
              {alarm.cameras.map((c) => (
                <li key={c} className="mono" data-testid="alarm-camera">
                  {c}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">{t('alarms.noCameras')}</p>
          )}
          {alarm.cameras.length > 0 && (
            <>
              <h2>{t('snapshots.title')}</h2>
              <SnapshotStrip alarm={alarm.id} />
            </>
          )}
          <h2>{t('alarms.timeline')}</h2>
          <ol className="timeline" data-testid="alarm-timeline">
            {alarm.timeline.map((e, i) => (
              <li key={i} data-testid="timeline-entry" data-kind={e.kind}>
                <span className="muted">{fullTime(e.ts)}</span> <strong>{t(`alarms.timelineKinds.${e.kind}`, { defaultValue: e.kind })}</strong>
                {e.actor && <span> · {e.actor}</span>}
                {e.note && <span> · {e.note}</span>}
                {e.detail && <span className="mono muted"> {summarizeDetail(e.detail)}</span>}
              </li>
            ))}
          </ol>
        </>
      )}
      {!alarm && fetched.loading && <p className="empty">{t('common.loading')}</p>}
    </section>
  );
}

/** What the detector's gateway released on its own (fire fail-safe) while the hub could not, once the hub has heard of it. */
function GatewayFailsafe({ device, since }: { device: string; since: number }) {
  const { t } = useTranslation();
  const [events, setEvents] = useState<HubEvent[]>([]);
  // Recorded by the gateway just after the alarm; a minute's slack covers clocks that differ a little.
  const fetched = useHubGet(hubPath('GET /api/events', { query: { device, type: 'linkage.failsafe', from: since - 60_000, limit: 20 } }), (p) => setEvents(p.events));
  useLiveBatch('event', (msgs) => {
    if (msgs.some((e) => e.device === device && e.type === 'linkage.failsafe')) fetched.reload();
  });
  if (events.length === 0) return null;
  return (
    <div className="failsafe" data-testid="alarm-failsafe">
      <h2>{t('alarms.failsafe.title')}</h2>
      {events.map((e) => {
        const d = e.data as { reason?: string; actions?: Array<{ device: string; action: string }> };
        return (
          <p key={e.id} data-testid="alarm-failsafe-entry" data-reason={d.reason}>
            <span className="muted">{fullTime(e.ts)}</span> {t(`alarms.failsafe.${d.reason === 'hub_down' ? 'hubDown' : 'notConfirmed'}`)}:{' '}
            <span className="mono">{(d.actions ?? []).map((a) => a.device).join(', ')}</span>
          </p>
        );
      })}
    </div>
  );
}

function summarizeDetail(d: Record<string, unknown>): string {
  return Object.entries(d)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
