import { useTranslation } from 'react-i18next';
import { useAlarms } from '../state/alarms.tsx';

/**
 * Pop-ups the hub's linkage asks for, on whatever page is open: the cameras of an alarm's zone (ids until live
 * video comes with the camera issue) and notices for this user's roles (e.g. an alarm escalated to them).
 */
export function AlarmPopups() {
  const { t } = useTranslation();
  const { enabled, popups, dismissPopup, open } = useAlarms();
  if (!enabled || popups.length === 0) return null;
  return (
    <aside className="camera-popups" data-testid="camera-popups" aria-live="polite">
      {popups.map((p) => {
        const alarm = open.find((a) => a.id === p.alarmId);
        return (
          <div key={p.alarmId} className="camera-popup" data-testid="alarm-popup" data-alarm={p.alarmId} data-notify={p.notify ? 'true' : undefined}>
            <a href={`#/alarms/${encodeURIComponent(p.alarmId)}`}>{p.notify ? t('alarms.notified', { title: alarm?.title ?? p.alarmId }) : t('alarms.camerasFor')}</a>
            {p.cameras.length > 0 && (
              <ul>
                {p.cameras.map((c) => (
                  <li key={c} className="mono">
                    {c}
                  </li>
                ))}
              </ul>
            )}
            <button type="button" onClick={() => dismissPopup(p.alarmId)}>
              {t('alarms.dismiss')}
            </button>
          </div>
        );
      })}
    </aside>
  );
}
