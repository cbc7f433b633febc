import Type, { type Static, type TSchema } from 'typebox';
import { DeviceIdSchema } from './primitives.ts';
import { CONTRACT_VERSION } from './version.ts';

const Empty = Type.Object({}, { additionalProperties: false });

/** One schema per command action; the key is `action`, the schema validates `params`. */
export const COMMAND_SCHEMAS = {
  /** Momentary unlock, e.g. remote open by an operator. */
  'door.unlock': Type.Object({ seconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })) }, { additionalProperties: false }),
  'door.lock': Empty,
  /** Keep the door released until 'door.normal' (fire evacuation). */
  'door.hold_open': Empty,
  'door.normal': Empty,
  'turnstile.set_mode': Type.Object(
    { mode: Type.Union([Type.Literal('normal'), Type.Literal('free'), Type.Literal('locked')]) },
    { additionalProperties: false },
  ),
  'intrusion.arm': Empty,
  'intrusion.disarm': Empty,
  'actuator.set': Type.Object(
    { on: Type.Boolean(), level: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })) },
    { additionalProperties: false },
  ),
  /** PTZ camera: go to a stored preset, by token or name (alarm linkage points cameras at the scene). */
  'camera.goto_preset': Type.Object({ preset: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
} satisfies Record<string, TSchema>;

export type CommandAction = keyof typeof COMMAND_SCHEMAS;
export type CommandParams<A extends CommandAction> = Static<(typeof COMMAND_SCHEMAS)[A]>;
export const COMMAND_ACTIONS = Object.keys(COMMAND_SCHEMAS) as CommandAction[];

export function isCommandAction(a: string): a is CommandAction {
  return Object.hasOwn(COMMAND_SCHEMAS, a);
}

export const CommandSchema = Type.Object(
  {
    v: Type.Literal(CONTRACT_VERSION),
    id: Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
    device: DeviceIdSchema,
    action: Type.String({ minLength: 1, maxLength: 64 }),
    params: Type.Object({}),
    ts: Type.Integer({ minimum: 0 }),
    /** A command arriving after this instant is refused with a command.result error instead of acted on. */
    expiresAt: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type Command<A extends CommandAction = CommandAction> = Omit<Static<typeof CommandSchema>, 'action' | 'params'> & {
  action: A;
  params: CommandParams<A>;
};
