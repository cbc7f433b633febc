import type { TSchema } from 'typebox';
import Value from 'typebox/value';

/** Validation errors as `path: message`, paths in JSON-pointer form under `base`. */
export function schemaErrors(schema: TSchema, value: unknown, base = ''): string[] {
  const out: string[] = [];
  for (const e of Value.Errors(schema, value)) {
    // typebox reports `additionalProperties: false` twice; keep the one that names the keys.
    if (e.keyword === 'boolean') continue;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${(e.params as { additionalProperties: string[] }).additionalProperties.join(', ')})`
        : '';
    out.push(`${base}${e.instancePath || (base ? '' : '/')}: ${e.message}${extra}`);
  }
  return out;
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
