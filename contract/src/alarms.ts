/** Alarm priorities and states; the alarm wire shape itself is `AlarmSchema` in api/alarms.ts (docs/API.md, "Alarms"). */

export const ALARM_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type AlarmPriority = (typeof ALARM_PRIORITIES)[number];

export const ALARM_STATES = ['raised', 'acknowledged', 'resolved'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];
