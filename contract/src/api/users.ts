import Type, { type Static } from 'typebox';
import { RoleSchema, ScopeSchema } from '../primitives.ts';
import { MsEpoch, Nullable, type RouteDef } from './common.ts';
import { NewPasswordSchema } from './auth.ts';

/** A console account as the admin's user management sees it (never a password hash). */
export const UserAccountSchema = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  roles: Type.Array(RoleSchema),
  scope: ScopeSchema,
  disabled: Type.Boolean(),
  lockedUntil: Nullable(MsEpoch('locked after repeated failed logins until then')),
  createdAt: MsEpoch(),
});
export type UserAccount = Static<typeof UserAccountSchema>;

const Username = Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,63}$', description: 'login name' });

export const CreateUserBodySchema = Type.Object(
  {
    username: Username,
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true }),
    scope: Type.Optional(ScopeSchema),
    password: Type.Optional(NewPasswordSchema),
  },
  { additionalProperties: false },
);

export const UpdateUserBodySchema = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    roles: Type.Optional(Type.Array(RoleSchema, { minItems: 1, uniqueItems: true })),
    scope: Type.Optional(ScopeSchema),
    disabled: Type.Optional(Type.Boolean({ description: 'a disabled user cannot log in; their sessions end at once' })),
  },
  { additionalProperties: false },
);

export const ResetPasswordBodySchema = Type.Object({ password: Type.Optional(NewPasswordSchema) }, { additionalProperties: false });
export const UserPasswordSchema = Type.Object({ username: Type.String(), password: Type.String({ description: 'shown once' }) });

const UserParams = Type.Object({ id: Username });

export const USER_ROUTES = {
  'GET /api/users': { summary: 'Every console account (admin)', response: Type.Object({ users: Type.Array(UserAccountSchema) }) },
  'POST /api/users': {
    summary: 'Create an account (admin); without a password one is generated and answered once',
    body: CreateUserBodySchema,
    status: 201,
    response: Type.Object({ user: UserAccountSchema, password: Type.String() }),
  },
  'PATCH /api/users/:id': { summary: 'Change roles, scope, name or disable (admin); a change of roles, scope or disabled ends the sessions', params: UserParams, body: UpdateUserBodySchema, response: UserAccountSchema },
  'POST /api/users/:id/password': { summary: 'Reset a password (admin); without one it is generated; ends the sessions', params: UserParams, body: ResetPasswordBodySchema, response: UserPasswordSchema },
  'POST /api/users/:id/logout': { summary: "End every session of a user (admin)", params: UserParams, status: 204, response: Type.Null() },
  'POST /api/users/:id/unlock': { summary: 'Lift a login lockout (admin, security supervisor)', params: UserParams, response: UserAccountSchema },
} as const satisfies Record<string, RouteDef>;
