import { useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Leave, NightRow, StudentHistory, TonightBoard } from '@warden/contract';
import { hubPath } from '../api/client.ts';
import { useSignedIn } from '../state/auth.tsx';
import { useHubGet } from '../state/fetch.ts';
import { useLiveBatch } from '../state/live.tsx';

const EXCEPTIONS = new Set(['absent', 'late', 'unknown']);
const STATES = ['absent', 'unknown', 'late', 'leave', 'pending', 'in', 'exempt'] as const;

/** HH:MM on the campus clock (the hub's calendar is Asia/Shanghai). */
function clock(ts: number | null): string {
  if (ts === null) return '';
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ts);
}

function rowsOf(board: TonightBoard | null): NightRow[] {
  return board?.buildings.flatMap((b) => b.floors.flatMap((f) => f.rooms.flatMap((r) => r.students))) ?? [];
}

/**
 * Dorm attendance: tonight's board per building, floor and room, the late/absent list (pushed live at curfew + N),
 * leave entry and decisions, a student's nights, CSV/XLSX export. The hub answers only with the caller's buildings.
 */
export function AttendancePage() {
  const { t } = useTranslation();
  const { api, token } = useSignedIn();
  const [night, setNight] = useState<string>('');
  const [building, setBuilding] = useState<string>('');
  const [board, setBoard] = useState<TonightBoard | null>(null);
  const [leaves, setLeaves] = useState<Leave[]>([]);
  const [history, setHistory] = useState<StudentHistory | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const fetched = useHubGet(hubPath('GET /api/attendance/board', { query: { night: night || undefined } }), (d) => setBoard(d));
  const leavesFetched = useHubGet(hubPath('GET /api/attendance/leaves', {}), (d) => setLeaves(d.leaves));

  useLiveBatch(
    'attendance',
    (msgs) => {
      const report = msgs.find((m) => m.kind === 'report');
      if (report) setNotice(t('attendance.reportPushed', { building: report.building, night: report.night, count: report.kind === 'report' ? report.rows.length : 0 }));
      fetched.reload();
    },
    300,
  );

  const all = rowsOf(board);
  const visible = building ? all.filter((r) => r.building === building) : all;
  const exceptions = useMemo(
    () => visible.filter((r) => EXCEPTIONS.has(r.state)).sort((a, b) => STATES.indexOf(a.state) - STATES.indexOf(b.state) || a.room.localeCompare(b.room, 'en', { numeric: true })),
    [visible],
  );

  async function act(fn: () => Promise<unknown>, done?: string) {
    setError(null);
    try {
      await fn();
      if (done) setNotice(done);
      fetched.reload();
      leavesFetched.reload();
    } catch (err) {
      setError(t('attendance.actionFailed', { message: err instanceof Error ? err.message : String(err) }));
    }
  }

  async function download(format: 'csv' | 'xlsx', everyone: boolean) {
    await act(async () => {
      const path = hubPath('GET /api/attendance/export', { query: { night: board?.night, format, all: everyone || undefined } });
      const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `attendance-${board?.night ?? 'night'}${everyone ? '-all' : ''}.${format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  }

  function submitLeave(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const form = e.currentTarget;
    void act(async () => {
      await api('POST /api/attendance/leaves', {
        body: { student: String(f.get('student')), from: String(f.get('from')), to: String(f.get('to')), reason: String(f.get('reason')), approve: f.get('approve') === 'on' },
      });
      form.reset();
    }, t('attendance.leaveSaved'));
  }

  const showHistory = (student: string) =>
    act(async () => setHistory(await api('GET /api/attendance/students/:id', { params: { id: student }, query: {} })));

  const stateLabel = (s: string) => (s ? t(`attendance.states.${s}`) : '');

  return (
    <section className="page" aria-labelledby="attendance-title">
      <div className="page-head">
        <h1 id="attendance-title">{t('attendance.title')}</h1>
        <label>
          {t('attendance.night')}{' '}
          <input type="date" value={night || board?.night || ''} onChange={(e) => setNight(e.target.value)} data-testid="attendance-night" />
        </label>
        <label>
          {t('attendance.building')}{' '}
          <select value={building} onChange={(e) => setBuilding(e.target.value)} data-testid="attendance-building">
            <option value="">{t('attendance.allBuildings')}</option>
            {board?.buildings.map((b) => (
              <option key={b.building} value={b.building}>
                {b.building}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void download('xlsx', false)} data-testid="attendance-export-xlsx">
          {t('attendance.exportXlsx')}
        </button>
        <button type="button" onClick={() => void download('csv', false)} data-testid="attendance-export-csv">
          {t('attendance.exportCsv')}
        </button>
        <button type="button" onClick={fetched.reload} data-testid="attendance-reload">
          ↻
        </button>
      </div>
      <p className="muted hint">{t('attendance.scopeHint')}</p>
      {notice && (
        <p className="notice" role="status" data-testid="attendance-notice">
          {notice}
        </p>
      )}
      {(fetched.error || error) && (
        <p className="error" role="alert" data-testid="attendance-error">
          {error ?? t('attendance.loadFailed', { message: fetched.error })}
        </p>
      )}

      <div className="cards" data-testid="attendance-buildings">
        {board?.buildings
          .filter((b) => !building || b.building === building)
          .map((b) => (
            <div className="card" key={b.building} data-testid="attendance-building-card" data-building={b.building}>
              <h2>
                {b.building} <span className="muted">{b.curfew !== null ? t('attendance.curfewAt', { time: clock(b.curfew) }) : t('attendance.noCurfew')}</span>
              </h2>
              <p>
                {STATES.filter((s) => b.counts[s]).map((s) => (
                  <span key={s} className={`badge state-${s}`} data-testid={`count-${s}`}>
                    {stateLabel(s)} {b.counts[s]}
                  </span>
                ))}
              </p>
            </div>
          ))}
      </div>

      <h2>{t('attendance.exceptions')}</h2>
      {board && exceptions.length === 0 && <p className="empty">{t('attendance.noExceptions')}</p>}
      <div className="table-wrap">
        <table className="table" data-testid="attendance-exceptions">
          <thead>
            <tr>
              <th>{t('attendance.building')}</th>
              <th>{t('attendance.room')}</th>
              <th>{t('attendance.student')}</th>
              <th>{t('attendance.state')}</th>
              <th>{t('attendance.time')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {exceptions.map((r) => (
              <tr key={r.student} data-testid="attendance-row" data-student={r.student} data-state={r.state}>
                <td>{r.building}</td>
                <td>
                  {r.floor} / {r.room}
                </td>
                <td>
                  <button type="button" className="link" onClick={() => void showHistory(r.student)}>
                    {r.name} ({r.student})
                  </button>
                </td>
                <td>
                  <span className={`badge state-${r.state}`}>{stateLabel(r.state)}</span>
                  {r.outAgain && <span className="muted"> {t('attendance.outAgain')}</span>}
                  {r.revision > 0 && <span className="muted"> {t('attendance.corrected', { from: stateLabel(r.previousState ?? ''), revision: r.revision })}</span>}
                  {r.reason && r.state === 'unknown' && <span className="muted"> {t(`attendance.reasons.${r.reason}`)}</span>}
                </td>
                <td className="mono">{clock(r.at)}</td>
                <td>
                  <button
                    type="button"
                    data-testid="attendance-grant-leave"
                    onClick={() => void act(() => api('POST /api/attendance/leaves', { body: { student: r.student, from: r.night, to: r.night, reason: t('attendance.quickLeaveReason'), approve: true } }), t('attendance.leaveSaved'))}
                  >
                    {t('attendance.grantLeave')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <details data-testid="attendance-board">
        <summary>{t('attendance.board')}</summary>
        {board?.buildings
          .filter((b) => !building || b.building === building)
          .map((b) =>
            b.floors.map((f) => (
              <div key={`${b.building}-${f.floor}`} className="floor">
                <h3>
                  {b.building} · {t('attendance.floor', { floor: f.floor })}
                </h3>
                <div className="rooms">
                  {f.rooms.map((room) => (
                    <div key={room.room} className="room card">
                      <strong>{room.room}</strong>
                      <ul>
                        {room.students.map((s) => (
                          <li key={s.student} data-testid="board-student" data-student={s.student} data-state={s.state}>
                            {s.name} <span className={`badge state-${s.state}`}>{stateLabel(s.state)}</span> <span className="mono">{clock(s.at)}</span>
                          </li>
                        ))}
                      </ul>
                    </div>
                  ))}
                </div>
              </div>
            )),
          )}
      </details>

      <h2>{t('attendance.leaves')}</h2>
      <form onSubmit={submitLeave} className="form-row" data-testid="attendance-leave-form">
        <input name="student" required placeholder={t('attendance.student')} />
        <input name="from" type="date" required defaultValue={board?.night} />
        <input name="to" type="date" required defaultValue={board?.night} />
        <input name="reason" required placeholder={t('attendance.reason')} />
        <label>
          <input name="approve" type="checkbox" defaultChecked /> {t('attendance.approveNow')}
        </label>
        <button type="submit">{t('attendance.enterLeave')}</button>
      </form>
      <div className="table-wrap">
        <table className="table" data-testid="attendance-leaves">
          <tbody>
            {leaves.map((l) => (
              <tr key={l.id} data-testid="leave-row" data-student={l.student} data-status={l.status}>
                <td>{l.student}</td>
                <td>
                  {l.from} – {l.to}
                </td>
                <td>{l.reason}</td>
                <td>{t(`attendance.leaveStatus.${l.status}`)}</td>
                <td>
                  {l.status === 'requested' && (
                    <>
                      <button type="button" data-testid="leave-approve" onClick={() => void act(() => api('POST /api/attendance/leaves/:id/approve', { params: { id: l.id } }))}>
                        {t('attendance.approve')}
                      </button>
                      <button type="button" onClick={() => void act(() => api('POST /api/attendance/leaves/:id/reject', { params: { id: l.id } }))}>
                        {t('attendance.reject')}
                      </button>
                    </>
                  )}
                  {(l.status === 'approved' || l.status === 'requested') && (
                    <button type="button" data-testid="leave-revoke" onClick={() => void act(() => api('POST /api/attendance/leaves/:id/revoke', { params: { id: l.id } }))}>
                      {t('attendance.revoke')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {history && (
        <div className="card" data-testid="attendance-history">
          <h2>
            {history.student.name} ({history.student.id}) · {history.student.building} {history.student.room}
            <button type="button" onClick={() => setHistory(null)}>
              ×
            </button>
          </h2>
          <table className="table">
            <tbody>
              {history.nights.map((n) => (
                <tr key={n.night} data-state={n.state}>
                  <td>{n.night}</td>
                  <td>{stateLabel(n.state)}</td>
                  <td className="mono">{clock(n.at)}</td>
                  <td className="muted">{n.revision > 0 ? t('attendance.corrected', { from: stateLabel(n.previousState ?? ''), revision: n.revision }) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
