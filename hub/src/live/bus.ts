import { EventEmitter } from 'node:events';
import type { StoredEvent } from '../store/events.ts';
import type { LinkageMessage } from '../alarms/linkage.ts';
import type { Alarm } from '../alarms/types.ts';

/** What the live feed pushes (socket.io event name -> payload), as documented in docs/API.md. */
export interface LiveMessages {
  event: StoredEvent;
  device: { id: string; gateway: string; online: boolean; lastSeen: number | null };
  gateway: { id: string; online: boolean; lastSeen: number | null; backlog: number | null };
  alarm: Alarm;
  linkage: LinkageMessage;
}

/** In-process fan-out from ingest to the live feed (and anything else that wants stored facts). */
export class HubBus extends EventEmitter<{ [K in keyof LiveMessages]: [LiveMessages[K]] }> {}
