import type { TSchema } from 'typebox';
import Value from 'typebox/value';

/** Validation errors as `path: message`, paths in JSON-pointer form under `base`. */
export function schemaErrors(schema: TSchema, value: unknown, base = ''): string[] {
  const out: string[] = [];
  const errors = Value.Errors(schema, value);
  // A failed union reports each branch (and typebox stops after a few); say it once, from the schema itself.
  const unions = new Map<string, string>();
  for (const e of errors) {
    const m = /^(.*)\/anyOf(\/\d+)?$/.exec(e.schemaPath);
    if (!m || unions.has(e.instancePath)) continue;
    const node = resolvePointer(schema, m[1]!) as { anyOf?: Array<{ const?: unknown; type?: unknown }> } | undefined;
    const branches = node?.anyOf ?? [];
    const literals = branches.length > 0 && branches.every((b) => b.const !== undefined);
    unions.set(e.instancePath, literals ? `one of ${branches.map((b) => JSON.stringify(b.const)).join(', ')}` : `${branches.map((b) => String(b.type ?? 'value')).join(' or ')}`);
  }
  for (const [path, allowed] of unions) out.push(`${base}${path || (base ? '' : '/')}: must be ${allowed}`);
  for (const e of errors) {
    if (unions.has(e.instancePath)) continue;
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

/** Follows a JSON pointer like '#/properties/profile' into a schema. */
function resolvePointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const part of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}
