import { useTranslation } from 'react-i18next';
import { currentLanguage, nextLanguage, setLanguage } from '../i18n/index.ts';

export function LangToggle() {
  const { t } = useTranslation();
  const next = nextLanguage(currentLanguage());
  return (
    <button
      type="button"
      className="lang-toggle"
      data-testid="lang-toggle"
      lang={next}
      title={t('lang.switchToTitle')}
      onClick={() => setLanguage(next)}
    >
      {t('lang.switchTo')}
    </button>
  );
}
