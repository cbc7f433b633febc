import Type, { type Static } from 'typebox';
import { command, event, lockControl, resultReply, unlockSecondsOption } from '../driver-kit.ts';
import { defineDriver, isoTime, oneOf, reject, uplink, type DeviceContext, type Emission, type Rejection } from '../driver.ts';

const Options = Type.Object({ unlockSeconds: unlockSecondsOption() }, { additionalProperties: false });
type Opts = Static<typeof Options>;
type Ctx = DeviceContext<Opts, undefined>;

const NativeEvent = Type.Object({
  event: oneOf(['DOOR_OPEN', 'DOOR_CLOSE', 'FORCED_OPEN', 'HELD_OPEN', 'CARD_GRANTED', 'CARD_DENIED', 'UNLOCKED', 'LOCKED']),
  door: Type.Optional(Type.Integer({ minimum: 1 })),
  card: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  reason: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  held_s: Type.Optional(Type.Number({ minimum: 0 })),
  time: Type.Optional(Type.String()),
});

function decodeEvent(m: Static<typeof NativeEvent>, _ctx: Ctx): Emission[] | Rejection {
  const ts = isoTime(m.time);
  const door = m.door === undefined ? {} : { door: m.door };
  const card = m.card === undefined ? {} : { credential: m.card };
  switch (m.event) {
    case 'DOOR_OPEN':
      return [event('door.opened', door, ts)];
    case 'DOOR_CLOSE':
      return [event('door.closed', door, ts)];
    case 'FORCED_OPEN':
      return [event('door.forced', door, ts)];
    case 'HELD_OPEN':
      // The contract's door.held_open needs the duration; without it the event cannot be built.
      if (m.held_s === undefined) return reject('schema_invalid', 'HELD_OPEN needs held_s');
      return [event('door.held_open', { ...door, seconds: m.held_s }, ts)];
    case 'CARD_GRANTED':
      return [event('access.granted', { method: 'card', ...card }, ts)];
    case 'CARD_DENIED':
      if (m.reason === undefined) return reject('schema_invalid', 'CARD_DENIED needs reason');
      return [event('access.denied', { method: 'card', ...card, reason: m.reason }, ts)];
    case 'UNLOCKED':
      return [event('door.unlocked', door, ts)];
    case 'LOCKED':
      return [event('door.locked', door, ts)];
  }
}

/** Access-control door controller: door state, card decisions, remote lock/unlock. */
export default defineDriver<Opts, undefined>({
  name: 'door-controller',
  kind: 'door',
  description: 'access-control door controller (door contacts, card reader, lock)',
  transport: 'field-mqtt',
  options: Options,
  uplinks: { 'acs/{id}/event': uplink(NativeEvent, decodeEvent) },
  replies: { 'acs/{id}/control/reply': resultReply('device reported ERROR') },
  commands: {
    ...lockControl<Opts>('acs/{id}/control'),
    'door.hold_open': command('acs/{id}/control', () => ({ op: 'HOLD_OPEN' })),
    'door.normal': command('acs/{id}/control', () => ({ op: 'NORMAL' })),
  },
});
