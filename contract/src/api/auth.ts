import Type, { type Static } from 'typebox';
import { RoleSchema } from '../primitives.ts';
import type { RouteDef } from './common.ts';

export const UserSchema = Type.Object({ username: Type.String(), displayName: Type.String(), roles: Type.Array(RoleSchema) });
export type User = Static<typeof UserSchema>;

export const LoginBodySchema = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export const LoginResponseSchema = Type.Object({ token: Type.String(), user: UserSchema });
export type LoginResponse = Static<typeof LoginResponseSchema>;

export const AUTH_ROUTES = {
  'POST /api/auth/login': { summary: 'Log in; returns a bearer token', body: LoginBodySchema, response: LoginResponseSchema },
  'GET /api/me': { summary: 'The logged-in user', response: UserSchema },
} as const satisfies Record<string, RouteDef>;
