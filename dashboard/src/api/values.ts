import type { Band, EnergyStep, Medium, Role, VIDEO_CLOSE as ContractVideoClose, VIDEO_PATH as ContractVideoPath, Weekday } from '@warden/contract';

/*
 * Lists of contract values the console iterates over. The console imports only types from the contract
 * (no TypeBox in the bundle), so these are spelled out here, and `every<U>()` refuses a list that misses
 * or adds a member of the contract's union: a value added to the contract breaks the type check.
 */

type Missing<U, T extends readonly unknown[]> = Exclude<U, T[number]>;
export const every =
  <U extends string>() =>
  <const T extends readonly U[]>(values: T & ([Missing<U, T>] extends [never] ? unknown : { missing: Missing<U, T> })): T =>
    values;

export const MEDIA = every<Medium>()(['power', 'water', 'gas']);
export const STEPS = every<EnergyStep>()(['15m', '1h', '1d', '1mo']);
export const BANDS = every<Band>()(['peak', 'flat', 'valley']);
export const WEEKDAYS = every<Weekday>()(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export const ROLES = every<Role>()(['admin', 'security', 'supervisor', 'dorm', 'facilities', 'counsellor']);

/** The live video WebSocket's path and close codes (contract/src/api/cameras.ts): a changed code breaks the type check. */
export const VIDEO_PATH: typeof ContractVideoPath = '/video';
export const VIDEO_CLOSE = {
  unauthorized: 4401,
  forbidden: 4403,
  unknownCamera: 4404,
  streamLimit: 4429,
  upstream: 4502,
  shutdown: 1001,
} as const satisfies typeof ContractVideoClose;
