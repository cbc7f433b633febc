import { schemaErrors as contractSchemaErrors } from '@warden/contract';
import type { TSchema } from 'typebox';

/** Validation errors as `path: message`, paths in JSON-pointer form under `base` (the contract's one formatter). */
export function schemaErrors(schema: TSchema, value: unknown, base = ''): string[] {
  return contractSchemaErrors(schema, value, { base });
}

/** A configuration error listing every problem with its path, like Frigate's config errors. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}
