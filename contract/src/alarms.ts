/** An alarm as the hub sends it over REST and socket.io (docs/API.md, "Alarms"); one definition for hub and console. */

export const ALARM_PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type AlarmPriority = (typeof ALARM_PRIORITIES)[number];

export const ALARM_STATES = ['raised', 'acknowledged', 'resolved'] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

/** `T` narrows `type` to the hub's alarm types; the console reads it as a plain string. */
export interface Alarm<T extends string = string> {
  id: string;
  rule: string;
  type: T;
  priority: AlarmPriority;
  state: AlarmState;
  latching: boolean;
  conditionCleared: boolean;
  device: string;
  gateway: string | null;
  building: string | null;
  zone: string | null;
  credential: string | null;
  title: string;
  count: number;
  firstAt: number;
  lastAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  ackNote: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolveNote: string | null;
  escalatedAt: number | null;
  escalatedTo: string | null;
}
