import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { summarizeData } from './events.ts';

/** Human labels for contract values in the current language; unknown values (a newer hub) show as they are. */
export function useLabels() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  return useMemo(() => {
    const table = (name: 'eventTypes' | 'deviceKinds' | 'dataKeys' | 'dataValues') =>
      i18n.getResource(lng, 'translation', name) as Record<string, string> | undefined;
    const eventTypes = table('eventTypes') ?? {};
    const deviceKinds = table('deviceKinds') ?? {};
    const summary = { dataKeys: table('dataKeys') ?? {}, dataValues: table('dataValues') ?? {}, yes: t('common.yes'), no: t('common.no') };
    return {
      eventType: (type: string) => eventTypes[type] ?? type,
      deviceKind: (kind: string) => deviceKinds[kind] ?? kind,
      summary: (data: Record<string, unknown> | null | undefined) => summarizeData(data, summary),
    };
  }, [t, i18n, lng]);
}
