import Type, { type Static, type TSchema } from 'typebox';

const Direction = Type.Union([Type.Literal('in'), Type.Literal('out')]);
const Method = Type.Union([Type.Literal('card'), Type.Literal('qr'), Type.Literal('face'), Type.Literal('pin'), Type.Literal('remote')]);
const Empty = Type.Object({}, { additionalProperties: false });
const Str = (max = 128) => Type.String({ minLength: 1, maxLength: max });

/**
 * One schema per event type. The key is the `type` of an uplink record of kind `event`;
 * the schema validates its `data`. Adding an event type = one entry here.
 */
export const EVENT_SCHEMAS = {
  'door.opened': Type.Object({ door: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
  'door.closed': Type.Object({ door: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
  'door.forced': Type.Object({ door: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
  'door.held_open': Type.Object(
    { door: Type.Optional(Type.Integer({ minimum: 1 })), seconds: Type.Number({ minimum: 0 }) },
    { additionalProperties: false },
  ),
  'door.unlocked': Type.Object(
    { door: Type.Optional(Type.Integer({ minimum: 1 })), by: Type.Optional(Str()) },
    { additionalProperties: false },
  ),
  'door.locked': Type.Object(
    { door: Type.Optional(Type.Integer({ minimum: 1 })), by: Type.Optional(Str()) },
    { additionalProperties: false },
  ),
  'access.granted': Type.Object(
    {
      method: Method,
      credential: Type.Optional(Str()),
      person: Type.Optional(Str()),
      direction: Type.Optional(Direction),
    },
    { additionalProperties: false },
  ),
  'access.denied': Type.Object(
    {
      method: Method,
      credential: Type.Optional(Str()),
      person: Type.Optional(Str()),
      direction: Type.Optional(Direction),
      reason: Str(),
    },
    { additionalProperties: false },
  ),
  'turnstile.pass': Type.Object(
    { direction: Direction, credential: Type.Optional(Str()), granted: Type.Boolean() },
    { additionalProperties: false },
  ),
  'turnstile.mode': Type.Object(
    { mode: Type.Union([Type.Literal('normal'), Type.Literal('free'), Type.Literal('locked')]) },
    { additionalProperties: false },
  ),
  'fire.alarm': Type.Object(
    { detector: Type.Optional(Str()), smoke: Type.Optional(Type.Number({ minimum: 0 })) },
    { additionalProperties: false },
  ),
  'fire.cleared': Empty,
  'fire.fault': Type.Object({ fault: Str() }, { additionalProperties: false }),
  'emergency.call': Type.Object({ button: Type.Optional(Str()) }, { additionalProperties: false }),
  'emergency.cleared': Empty,
  'intrusion.alarm': Type.Object({ zone: Type.Optional(Str()) }, { additionalProperties: false }),
  'intrusion.armed': Empty,
  'intrusion.disarmed': Type.Object({ by: Type.Optional(Str()) }, { additionalProperties: false }),
  'intrusion.tamper': Empty,
  /** Camera analytics (ONVIF events): motion started (true) or ended (false). */
  'camera.motion': Type.Object({ state: Type.Boolean() }, { additionalProperties: false }),
  /** Camera tamper (lens covered, moved, defocused; ONVIF scene change or tamper rule): started or ended. */
  'camera.tamper': Type.Object({ state: Type.Boolean() }, { additionalProperties: false }),
  /**
   * Camera health facts from the gateway's probes (issue 10): sent when they change (drift by a second or more,
   * stream size) and as a heartbeat every few minutes, only after a good probe; its time is the probe's.
   * The hub's camera status (GET /api/cameras/status) is built from these, camera.* and device.online/offline.
   */
  'camera.health': Type.Object(
    {
      drift_s: Type.Integer({ minimum: -1e9, maximum: 1e9, description: 'camera clock minus gateway clock, whole seconds' }),
      width: Type.Optional(Type.Integer({ minimum: 1, maximum: 16384 })),
      height: Type.Optional(Type.Integer({ minimum: 1, maximum: 16384 })),
      fps: Type.Optional(Type.Number({ minimum: 0, maximum: 1000 })),
      codec: Type.Optional(Str(32)),
    },
    { additionalProperties: false },
  ),
  'device.online': Empty,
  'device.offline': Type.Object({ reason: Type.Optional(Str()) }, { additionalProperties: false }),
  'command.result': Type.Object(
    { command: Str(), action: Str(64), ok: Type.Boolean(), error: Type.Optional(Str(500)) },
    { additionalProperties: false },
  ),
  'actuator.state': Type.Object(
    { on: Type.Boolean(), level: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })) },
    { additionalProperties: false },
  ),
  /**
   * The gateway acted on its own because the hub could not (link down, or no linkage confirmed in time),
   * e.g. released evacuation doors on a fire alarm. `device` of the record is the triggering detector;
   * each action's outcome follows as a command.result with the same command id.
   */
  'linkage.failsafe': Type.Object(
    {
      trigger: Str(64),
      reason: Type.Union([Type.Literal('hub_down'), Type.Literal('not_confirmed')]),
      actions: Type.Array(
        Type.Object({ device: Str(), action: Str(64), command: Str(64) }, { additionalProperties: false }),
        { maxItems: 1000 },
      ),
    },
    { additionalProperties: false },
  ),
  /**
   * Face recognition at the edge. Records carry a person id and a similarity score, never an image or a
   * template (minimal data). `score` is the recogniser's cosine similarity (-1..1) against the point's threshold.
   */
  'attendance.checkin': Type.Object(
    {
      method: Method,
      person: Str(),
      direction: Direction,
      credential: Type.Optional(Str()),
      score: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
    },
    { additionalProperties: false },
  ),
  'face.sighting': Type.Object(
    { person: Str(), score: Type.Number({ minimum: -1, maximum: 1 }) },
    { additionalProperties: false },
  ),
  /** A face of acceptable quality that matched no one above the point's threshold; `score` is the best (rejected) similarity. */
  'face.stranger': Type.Object(
    { score: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })) },
    { additionalProperties: false },
  ),
  'face.watchlist': Type.Object(
    { person: Str(), score: Type.Number({ minimum: -1, maximum: 1 }) },
    { additionalProperties: false },
  ),
} satisfies Record<string, TSchema>;

export type EventType = keyof typeof EVENT_SCHEMAS;
export type EventData<T extends EventType> = Static<(typeof EVENT_SCHEMAS)[T]>;
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];

export function isEventType(t: string): t is EventType {
  return Object.hasOwn(EVENT_SCHEMAS, t);
}
