import type { DeviceKind, EventType } from '@warden/contract';

/** Shapes of the hub's REST answers and live messages, as documented in docs/API.md. */

export type Role = 'admin' | 'security' | 'dorm' | 'facilities';

export interface User {
  username: string;
  displayName: string;
  roles: Role[];
}

export interface LoginResponse {
  token: string;
  user: User;
}

export interface HubEvent {
  id: string;
  seq: number;
  gateway: string;
  device: string;
  /** Always a contract event type when it comes from the hub; typed loosely so an older console survives a newer hub. */
  type: EventType | (string & {});
  /** Source time, ms epoch. */
  ts: number;
  /** When the hub stored it, ms epoch. */
  receivedAt: number;
  data: Record<string, unknown>;
}

export interface EventsPage {
  events: HubEvent[];
  next: string | null;
}

export interface Device {
  id: string;
  gateway: string;
  kind: DeviceKind | (string & {});
  driver: string;
  name?: string | null;
  building?: string | null;
  zone?: string | null;
  location?: string | null;
  medium?: string | null;
  online: boolean;
  lastSeen: number | null;
  /** Set by the console, not the hub: reported online, but its gateway is offline. */
  gatewayOffline?: boolean;
}

export interface Gateway {
  id: string;
  name?: string | null;
  online: boolean;
  lastSeen: number | null;
  backlog: number | null;
  agentVersion?: string | null;
}

export interface ProvisionedGateway {
  id: string;
  password: string;
}

import type { Alarm } from '@warden/contract';

export type { Alarm, AlarmPriority, AlarmState } from '@warden/contract';

export interface AlarmTimelineEntry {
  ts: number;
  kind: string;
  actor?: string;
  note?: string;
  eventId?: string;
  detail?: Record<string, unknown>;
}

export interface AlarmDetail extends Alarm {
  timeline: AlarmTimelineEntry[];
  cameras: string[];
}

export interface AlarmsPage {
  alarms: Alarm[];
  next: string | null;
}

export interface SiteMarker {
  device: string;
  x: number;
  y: number;
  kind: string;
  name: string | null;
  building: string | null;
  zone: string | null;
  online: boolean;
}

export interface Site {
  plan: { svg: string; width: number; height: number } | null;
  markers: SiteMarker[];
}

export interface LinkageMessage {
  alarmId: string;
  action: string;
  devices: string[];
  cameras?: string[];
  commandId?: string;
  ok?: boolean;
  error?: string;
  /** `notify`: the roles told about the alarm (linkage config, or the role an alarm was escalated to). */
  roles?: string[];
  /** The gateway released `devices` on its own (edge fail-safe); reported once the hub heard of it. */
  failsafe?: boolean;
}

/** Live feed messages (socket.io event name -> payload). */
export interface LiveMessages {
  event: HubEvent;
  device: { id: string; gateway: string; online: boolean; lastSeen: number | null };
  gateway: { id: string; online: boolean; lastSeen: number | null; backlog: number | null };
  alarm: Alarm;
  linkage: LinkageMessage;
}
export type LiveChannel = keyof LiveMessages;
