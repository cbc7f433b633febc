/**
 * Every error the REST API can answer with: one code, one HTTP status, one message template.
 * Handlers throw `new HubError(code, ...args)`; nothing else reaches a client, so internals never leak.
 */
export const ERRORS = {
  validation_failed: { status: 400, message: (detail: string) => `The request is not valid: ${detail}` },
  bad_request: { status: 400, message: (detail: string) => detail },
  unknown_action: { status: 400, message: (action: string) => `Unknown command action ${JSON.stringify(action)}` },
  action_not_supported: {
    status: 400,
    message: (device: string, kind: string, action: string) => `Device ${device} (${kind}) does not take action ${action}`,
  },
  unauthorized: { status: 401, message: () => 'Log in first: the token is missing, invalid or expired' },
  bad_credentials: { status: 401, message: () => 'Wrong username or password' },
  forbidden: { status: 403, message: () => 'Your role does not allow this' },
  not_found: { status: 404, message: (what: string) => `No such ${what}` },
  gateway_exists: { status: 409, message: (id: string) => `Gateway ${id} already exists` },
  alarm_not_raised: { status: 409, message: (id: string, state: string) => `Alarm ${id} is ${state}, not raised; nothing to acknowledge` },
  alarm_resolved: { status: 409, message: (id: string) => `Alarm ${id} is already resolved` },
  gateway_offline: { status: 409, message: (id: string) => `Gateway ${id} is not connected; the command was not sent` },
  leave_state: { status: 409, message: (detail: string) => detail },
  device_state: { status: 409, message: (detail: string) => detail },
  weak_password: { status: 400, message: (why: string) => `The password is too weak: ${why}` },
  user_exists: { status: 409, message: (u: string) => `User ${u} already exists` },
  account_locked: { status: 423, message: (s: number) => `This account is locked after repeated failed logins; try again in ${s} s or ask an administrator` },
  too_many_attempts: { status: 429, message: (s: number) => `Too many failed logins; try again in ${s} s` },
  telemetry_unavailable: { status: 503, message: (why: string) => `Telemetry cannot be read now: ${why}; try again later` },
  face_key_unavailable: { status: 503, message: (why: string) => `Face templates cannot be stored: ${why}` },
  internal_error: { status: 500, message: () => 'Internal error; the hub log has the details' },
} as const;

export type ErrorCode = keyof typeof ERRORS;
type Args<C extends ErrorCode> = Parameters<(typeof ERRORS)[C]['message']>;

export class HubError<C extends ErrorCode = ErrorCode> extends Error {
  readonly status: number;
  headers: Record<string, string> = {};
  constructor(
    readonly code: C,
    ...args: Args<C>
  ) {
    const def = ERRORS[code];
    super((def.message as (...a: unknown[]) => string)(...args));
    this.name = 'HubError';
    this.status = def.status;
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
