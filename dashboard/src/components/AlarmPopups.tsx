import { useTranslation } from 'react-i18next';
import { useAlarms } from '../state/alarms.tsx';
import { useSignedIn } from '../state/auth.tsx';
import { LiveView, mayWatchVideo } from './LiveView.tsx';

/** Live views a popup opens at most (each is one stream of the hub's cap). */
const POPUP_VIEWS = 4;

/**
 * Pop-ups the hub's linkage asks for, on whatever page is open: the cameras of an alarm's zone (live views for
 * roles that watch video, up to POPUP_VIEWS; camera ids for the others) and notices for this user's roles
 * (e.g. an alarm escalated to them).
 */
export function AlarmPopups() {
  const { t } = useTranslation();
  const { enabled, popups, dismissPopup, open } = useAlarms();
  const { user } = useSignedIn();
  const video = mayWatchVideo(user.roles);
  if (!enabled || popups.length === 0) return null;
  return (
    <aside className="camera-popups" data-testid="camera-popups" aria-live="polite">
      {popups.map((p) => {
        const alarm = open.find((a) => a.id === p.alarmId);
        return (
          <div key={p.alarmId} className="camera-popup" data-testid="alarm-popup" data-alarm={p.alarmId} data-notify={p.notify ? 'true' : undefined}>
            <a href={`#/alarms/${encodeURIComponent(p.alarmId)}`}>{p.notify ? t('alarms.notified', { title: alarm?.title ?? p.alarmId }) : t('alarms.camerasFor')}</a>
            {video && p.cameras.length > 0 && (
              <div className="popup-views" data-testid="popup-views">
                {p.cameras.slice(0, POPUP_VIEWS).map((c) => (
                  <LiveView key={c} camera={c} name={c} onClose={() => dismissPopup(p.alarmId)} />
                ))}
              </div>
            )}
            {!video && p.cameras.length > 0 && (
              <ul>
                {p.cameras.map((c) => (
                  <li key={c} className="mono">
                    {c}
                  </li>
                ))}
              </ul>
            )}
            <button type="button" data-testid="popup-dismiss" onClick={() => dismissPopup(p.alarmId)}>
              {t('alarms.dismiss')}
            </button>
          </div>
        );
      })}
    </aside>
  );
}
