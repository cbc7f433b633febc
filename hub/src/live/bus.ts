import { EventEmitter } from 'node:events';
import type { LiveMessages } from '@warden/contract';

/** What the live feed pushes (socket.io event name -> payload): the contract's `LIVE_MESSAGES` (contract/src/api/live.ts). */
export type { LiveMessages } from '@warden/contract';

/** In-process fan-out from ingest to the live feed (and anything else that wants stored facts). */
export class HubBus extends EventEmitter<{ [K in keyof LiveMessages]: [LiveMessages[K]] }> {}
