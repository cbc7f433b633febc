import Type, { type Static } from 'typebox';
import { defineDriver, isoTime, oneOf, reject, replyDecoder, uplink, type DeviceContext, type Emission, type Rejection } from '../driver.ts';

const Options = Type.Object(
  {
    unlockSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 5,
      description: 'release time for a door.unlock command that does not give one',
    }),
  },
  { additionalProperties: false },
);
type Ctx = DeviceContext<Static<typeof Options>, undefined>;

const NativeEvent = Type.Object({
  event: oneOf(['DOOR_OPEN', 'DOOR_CLOSE', 'FORCED_OPEN', 'HELD_OPEN', 'CARD_GRANTED', 'CARD_DENIED', 'UNLOCKED', 'LOCKED']),
  door: Type.Optional(Type.Integer({ minimum: 1 })),
  card: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  held_s: Type.Optional(Type.Number({ minimum: 0 })),
  time: Type.Optional(Type.String()),
});

const Reply = Type.Object({
  ref: Type.String({ minLength: 1 }),
  result: oneOf(['OK', 'ERROR']),
  msg: Type.Optional(Type.String()),
});

function decodeEvent(m: Static<typeof NativeEvent>, _ctx: Ctx): Emission[] | Rejection {
  const ts = isoTime(m.time);
  const door = m.door === undefined ? {} : { door: m.door };
  const card = m.card === undefined ? {} : { credential: m.card };
  switch (m.event) {
    case 'DOOR_OPEN':
      return [{ kind: 'event', type: 'door.opened', data: door, ts }];
    case 'DOOR_CLOSE':
      return [{ kind: 'event', type: 'door.closed', data: door, ts }];
    case 'FORCED_OPEN':
      return [{ kind: 'event', type: 'door.forced', data: door, ts }];
    case 'HELD_OPEN':
      // The contract's door.held_open needs the duration; without it the event cannot be built.
      if (m.held_s === undefined) return reject('schema_invalid', 'HELD_OPEN needs held_s');
      return [{ kind: 'event', type: 'door.held_open', data: { ...door, seconds: m.held_s }, ts }];
    case 'CARD_GRANTED':
      return [{ kind: 'event', type: 'access.granted', data: { method: 'card', ...card }, ts }];
    case 'CARD_DENIED':
      if (m.reason === undefined) return reject('schema_invalid', 'CARD_DENIED needs reason');
      return [{ kind: 'event', type: 'access.denied', data: { method: 'card', ...card, reason: m.reason }, ts }];
    case 'UNLOCKED':
      return [{ kind: 'event', type: 'door.unlocked', data: door, ts }];
    case 'LOCKED':
      return [{ kind: 'event', type: 'door.locked', data: door, ts }];
  }
}

/** Access-control door controller: door state, card decisions, remote lock/unlock. */
export default defineDriver<Static<typeof Options>, undefined>({
  name: 'door-controller',
  kind: 'door',
  description: 'access-control door controller (door contacts, card reader, lock)',
  options: Options,
  initialState: () => undefined,
  uplinks: { 'acs/{id}/event': uplink(NativeEvent, decodeEvent) },
  replies: {
    'acs/{id}/control/reply': replyDecoder(Reply, (r) => ({ ref: r.ref, ok: r.result === 'OK', error: r.result === 'OK' ? undefined : r.msg || 'device reported ERROR' })),
  },
  commands: {
    'door.unlock': (p, c) => ({ topic: `acs/${c.id}/control`, payload: { op: 'UNLOCK', seconds: p.seconds ?? c.options.unlockSeconds, ref: c.ref } }),
    'door.lock': (_p, c) => ({ topic: `acs/${c.id}/control`, payload: { op: 'LOCK', ref: c.ref } }),
    'door.hold_open': (_p, c) => ({ topic: `acs/${c.id}/control`, payload: { op: 'HOLD_OPEN', ref: c.ref } }),
    'door.normal': (_p, c) => ({ topic: `acs/${c.id}/control`, payload: { op: 'NORMAL', ref: c.ref } }),
  },
});
