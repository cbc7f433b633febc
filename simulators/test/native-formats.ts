import Type, { type TSchema } from 'typebox';
import Value from 'typebox/value';

/** The native payloads of edge/FIELD-PROTOCOLS.md, written out strictly so the tests catch any drift. */
const Iso = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' });
const Card = Type.String({ pattern: '^\\d{10}$' });
const EpochS = Type.Integer({ minimum: 1_600_000_000, maximum: 4_102_444_800 });
const EpochMs = Type.Integer({ minimum: 1_600_000_000_000, maximum: 4_102_444_800_000 });
const L = <T extends string>(...xs: T[]) => Type.Union(xs.map((x) => Type.Literal(x)));
const strict = { additionalProperties: false };

export const NATIVE: Record<string, TSchema> = {
  doorEvent: Type.Object(
    {
      event: L('DOOR_OPEN', 'DOOR_CLOSE', 'FORCED_OPEN', 'HELD_OPEN', 'CARD_GRANTED', 'CARD_DENIED', 'UNLOCKED', 'LOCKED'),
      door: Type.Integer({ minimum: 1 }),
      card: Type.Optional(Card),
      reason: Type.Optional(Type.String({ minLength: 1 })),
      held_s: Type.Optional(Type.Number({ minimum: 0 })),
      time: Iso,
    },
    strict,
  ),
  doorReply: Type.Object({ ref: Type.String(), result: L('OK', 'ERROR'), msg: Type.Optional(Type.String()) }, strict),
  gatePass: Type.Object({ dir: L('IN', 'OUT'), card: Type.Optional(Card), auth: Type.Boolean(), t: EpochMs }, strict),
  gateMode: Type.Object({ mode: L('NORMAL', 'FREE', 'LOCKED') }, strict),
  okReply: Type.Object({ ref: Type.String(), ok: Type.Boolean(), err: Type.Optional(Type.String()) }, strict),
  fireState: Type.Object(
    { alarm: Type.Boolean(), obscuration: Type.Number({ minimum: 0 }), fault: Type.Union([Type.Null(), Type.String({ minLength: 1 })]), ts: EpochS },
    strict,
  ),
  sos: Type.Object({ btn: L('PRESSED', 'RESET'), button: Type.String({ minLength: 1 }) }, strict),
  iasZone: Type.Object({ zone: Type.String({ minLength: 1 }), status: L('ALARM', 'NORMAL', 'TAMPER') }, strict),
  iasArm: Type.Object({ armed: Type.Boolean(), user: Type.String({ minLength: 1 }) }, strict),
  meterReading: Type.Object({ total: Type.Number({ minimum: 0 }), instant: Type.Number({ minimum: 0 }), ts: EpochS }, strict),
  relayState: Type.Object({ on: Type.Boolean(), level: Type.Number({ minimum: 0, maximum: 100 }) }, strict),
};

/** Which native schema a device topic carries. */
export function schemaFor(topic: string): TSchema | undefined {
  const [prefix, , ...rest] = topic.split('/');
  const tail = rest.join('/');
  const key = `${prefix}/${tail}`;
  const map: Record<string, string> = {
    'acs/event': 'doorEvent',
    'acs/control/reply': 'doorReply',
    'gate/pass': 'gatePass',
    'gate/mode': 'gateMode',
    'gate/set/reply': 'okReply',
    'fire/state': 'fireState',
    'sos/': 'sos',
    'ias/zone': 'iasZone',
    'ias/arm': 'iasArm',
    'ias/cmd/reply': 'okReply',
    'meter/reading': 'meterReading',
    'relay/state': 'relayState',
    'relay/set/reply': 'okReply',
  };
  const name = map[key];
  return name ? NATIVE[name] : undefined;
}

/** Every device message seen must be a documented topic with a payload of the documented shape. */
export function assertNative(messages: Array<{ topic: string; text: string; json: unknown }>): void {
  for (const m of messages) {
    if (m.topic.startsWith('avail/')) {
      if (m.text !== 'online' && m.text !== 'offline') throw new Error(`${m.topic}: availability must be online/offline, got ${m.text}`);
      continue;
    }
    // Commands are what the gateway (the test) sends, not the device.
    if (/^(acs\/[^/]+\/control|gate\/[^/]+\/set|ias\/[^/]+\/cmd|relay\/[^/]+\/set)$/.test(m.topic)) continue;
    const schema = schemaFor(m.topic);
    if (!schema) throw new Error(`undocumented topic ${m.topic}`);
    if (!Value.Check(schema, m.json)) {
      const errs = [...Value.Errors(schema, m.json)].map((e) => `${e.instancePath} ${e.message}`).join('; ');
      throw new Error(`${m.topic} ${m.text}: ${errs}`);
    }
  }
}
