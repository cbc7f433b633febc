import Type, { type Static } from 'typebox';
import { RoleSchema, ScopeSchema } from '../primitives.ts';
import type { RouteDef } from './common.ts';

export const UserSchema = Type.Object({
  username: Type.String(),
  displayName: Type.String(),
  roles: Type.Array(RoleSchema),
  scope: Type.Optional(ScopeSchema),
});
export type User = Static<typeof UserSchema>;

export const LoginBodySchema = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export const LoginResponseSchema = Type.Object({ token: Type.String(), user: UserSchema });
export type LoginResponse = Static<typeof LoginResponseSchema>;

/** Password policy (hub/src/auth/password-policy.ts): at least 12 characters, not the username, not a common password. */
export const PASSWORD_MIN_LENGTH = 12;
export const NewPasswordSchema = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: 200, description: 'at least 12 characters, not the username, not a common password' });

export const ChangePasswordBodySchema = Type.Object(
  { current: Type.String({ minLength: 1, maxLength: 200 }), password: NewPasswordSchema },
  { additionalProperties: false },
);

export const AUTH_ROUTES = {
  'POST /api/auth/login': { summary: 'Log in; returns a bearer token', body: LoginBodySchema, response: LoginResponseSchema },
  'GET /api/me': { summary: 'The logged-in user', response: UserSchema },
  'POST /api/auth/password': {
    summary: 'Change your own password (needs the current one); ends every other session, answers a fresh token',
    body: ChangePasswordBodySchema,
    response: LoginResponseSchema,
  },
  'POST /api/auth/logout': { summary: 'Log out everywhere: every token of this user stops working, open live connections are dropped', status: 204, response: Type.Null() },
} as const satisfies Record<string, RouteDef>;
