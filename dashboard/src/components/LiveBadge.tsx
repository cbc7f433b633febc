import { useTranslation } from 'react-i18next';
import { useLiveState } from '../state/live.tsx';

export function LiveBadge() {
  const { t } = useTranslation();
  const { state } = useLiveState();
  return (
    <span className={`live-badge live-${state}`} data-testid="live-state" data-state={state} title={t('live.title')} role="status">
      <span className="dot" aria-hidden="true" />
      {t(`live.${state}`)}
    </span>
  );
}
