import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { Alarm } from '@warden/contract';

/** Labels of alarm types, priorities and states in the current language; an unknown type shows the hub's title. */
export function useAlarmLabels() {
  const { t, i18n } = useTranslation();
  const lng = i18n.language;
  return useMemo(() => {
    const types = (i18n.getResource(lng, 'translation', 'alarmTypes') ?? {}) as Record<string, string>;
    return {
      type: (a: Pick<Alarm, 'type' | 'title'>) => types[a.type] ?? a.title ?? a.type,
      priority: (p: string) => t(`alarms.priority.${p}`, { defaultValue: p }),
      state: (s: string) => t(`alarms.state.${s}`, { defaultValue: s }),
    };
  }, [t, i18n, lng]);
}
