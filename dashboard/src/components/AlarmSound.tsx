import { useTranslation } from 'react-i18next';
import { useAlarms } from '../state/alarms.tsx';

/**
 * The audible alert's visible side: it says whether the console is beeping, and mutes or unmutes it. Shown in
 * the header on every page, for the roles that see alarms. `data-state`: alerting | muted | quiet.
 */
export function AlarmSound() {
  const { t } = useTranslation();
  const { enabled, sound, muted, setMuted, open } = useAlarms();
  if (!enabled) return null;
  const raised = open.filter((a) => a.state === 'raised').length;
  return (
    <button
      type="button"
      className={`alarm-sound alarm-sound-${sound}`}
      data-testid="alarm-sound"
      data-state={sound}
      data-raised={raised}
      aria-pressed={muted}
      title={muted ? t('alarms.sound.unmute') : t('alarms.sound.mute')}
      onClick={() => setMuted(!muted)}
    >
      <span aria-hidden="true" className="alarm-sound-icon">
        {sound === 'muted' ? '🔇' : sound === 'alerting' ? '🔊' : '🔈'}
      </span>
      <span>{t(`alarms.sound.${sound}`, { n: raised })}</span>
    </button>
  );
}
