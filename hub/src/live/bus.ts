import { EventEmitter } from 'node:events';
import type { LiveMessages } from '@warden/contract';

/** What the live feed pushes (socket.io event name -> payload): the contract's `LIVE_MESSAGES` (contract/src/api/live.ts). */
export type { LiveMessages } from '@warden/contract';

/**
 * In-process fan-out from ingest to the live feed (and anything else that wants stored facts). Besides the live
 * messages, `stored` is hub-internal: ingest emits a batch's new events inside its storage transaction, so the alarm
 * engine can write their alarms in the same commit (each event then still comes as `event` after the commit).
 */
export class HubBus extends EventEmitter<{ [K in keyof LiveMessages]: [LiveMessages[K]] } & { stored: [StoredEventLike[]] }> {}

/** The stored event shape (hub/src/store/events.ts StoredEvent) as the bus carries it. */
export type StoredEventLike = LiveMessages['event'];
