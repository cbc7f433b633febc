import Type, { type Static } from 'typebox';
import { DEVICE_ID } from '@warden/contract';

const Targets = (what: string) =>
  Type.Union([Type.Literal('all'), Type.Array(Type.String({ pattern: DEVICE_ID.source, hint: 'must be a device id' }), { maxItems: 5000 })], {
    default: 'all',
    description: `${what} to release: "all" of this gateway, or a list of device ids`,
  });

const FireFailsafe = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: 'release evacuation doors and turnstiles from the gateway itself on a fire alarm the hub does not handle in time',
    }),
    doors: Targets('door controllers (door.hold_open)'),
    turnstiles: Targets('turnstiles (turnstile.set_mode free)'),
    confirmMs: Type.Integer({
      minimum: 0,
      maximum: 600_000,
      default: 5000,
      description: 'with the hub link up, how long to wait for the hub’s own release command per device before acting alone',
    }),
  },
  { additionalProperties: false, default: {}, description: 'fire fail-safe (GB 51348: evacuation doors open and stay open on fire)' },
);

export const FailsafeSection = Type.Object(
  { fire: FireFailsafe },
  { additionalProperties: false, default: {}, description: 'what the gateway does on its own when the hub cannot act' },
);
export type FailsafeConfig = Static<typeof FailsafeSection>;
export type FireFailsafeConfig = FailsafeConfig['fire'];

/** Which device kinds each target list may name, and the action the fail-safe sends them. */
const TARGET_KIND = { doors: 'door', turnstiles: 'turnstile' } as const;

/**
 * Cross-checks the target lists against the device list: each id must be a device of this gateway of
 * the right kind, so a typo is found at start-up and not during a fire. Errors are `path: message`.
 */
export function checkFailsafe(failsafe: unknown, devices: ReadonlyArray<{ id: string; kind: string | undefined }>): string[] {
  const fire = (failsafe as { fire?: Record<string, unknown> } | undefined)?.fire;
  if (typeof fire !== 'object' || fire === null) return [];
  const kinds = new Map(devices.map((d) => [d.id, d.kind]));
  const errors: string[] = [];
  for (const [key, kind] of Object.entries(TARGET_KIND)) {
    const list = fire[key];
    if (!Array.isArray(list)) continue;
    const seen = new Set<string>();
    list.forEach((id, i) => {
      if (typeof id !== 'string') return;
      const path = `failsafe/fire/${key}/${i}`;
      if (seen.has(id)) errors.push(`${path}: "${id}" is listed twice`);
      seen.add(id);
      if (!kinds.has(id)) errors.push(`${path}: "${id}" is not a device of this gateway`);
      else if (kinds.get(id) !== undefined && kinds.get(id) !== kind) errors.push(`${path}: "${id}" is a ${kinds.get(id)}, not a ${kind}`);
    });
  }
  return errors;
}
