import Type, { type Static, type TSchema } from 'typebox';

/** Pieces every REST area uses. */

export const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);

/** A REST timestamp (answers and filters): ms since the Unix epoch. */
export const MsEpoch = (description = 'milliseconds since the Unix epoch') => Type.Integer({ minimum: 0, description });

/** Every failure answer: `{error: {code, message}}`, code snake_case and stable (docs/API.md, "Errors"). */
export const ErrorSchema = Type.Object(
  { error: Type.Object({ code: Type.String({ description: 'snake_case, stable' }), message: Type.String() }) },
  { $id: 'Error', description: 'every failure answer' },
);
export type ApiErrorBody = Static<typeof ErrorSchema>;

/** `:id` of most routes. */
export const IdParams = (maxLength = 64) => Type.Object({ id: Type.String({ maxLength }) });

/** `limit` of a paged list. */
export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 100 });

/** `before` cursor of a paged list: the `next` of the previous page. */
export const Cursor = Type.String({ pattern: '^[0-9]{1,18}$', description: 'the `next` cursor of the previous page' });

/**
 * One REST route: what it takes (params, query, body) and what it answers on success (`status`, default 200).
 * Failure answers are always `ErrorSchema`; the hub adds them per route.
 */
export interface RouteDef {
  readonly summary: string;
  readonly params?: TSchema;
  readonly query?: TSchema;
  readonly body?: TSchema;
  readonly status?: 200 | 201 | 202 | 204;
  readonly response: TSchema;
}
