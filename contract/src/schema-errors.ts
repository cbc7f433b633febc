import type { TSchema } from 'typebox';
import Value from 'typebox/value';

/**
 * The one schema-error formatter of Warden: TypeBox errors as readable `path: message` lines. Used for wire
 * payloads (validate.ts), the hub's and the edge's config files and the simulators' scenarios.
 *
 * - `style: 'pointer'` (default): JSON-pointer paths (`/a/0/b`, `/` for the root), TypeBox's wording, e.g.
 *   `/direction: must be one of "in", "out"`, `/http: must not have additional properties (hots)`.
 * - `style: 'config'`: for files people edit: plain paths (`a/0/b`, `(root)`), `x: unknown key (known: …)`,
 *   `x: "steam" is not one of power, water, gas`, `x: required`, and a schema's `hint` for a failed pattern.
 *
 * A failed union of literals is said once (TypeBox reports each branch); `max` caps the lines.
 */
export interface SchemaErrorOptions {
  style?: 'pointer' | 'config';
  /** Prefixed to every path (a JSON pointer such as `/devices/3/options`). */
  base?: string;
  max?: number;
  /** Errors already computed (e.g. by a compiled checker with a raised error limit); default `Value.Errors(schema, value)`. */
  errors?: Iterable<SchemaError>;
}

export interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  message: string;
  params: unknown;
}

/** Follows a JSON pointer like '#/properties/profile' into a schema. */
function resolvePointer(root: unknown, pointer: string): Record<string, unknown> | undefined {
  let node = root;
  for (const part of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node as Record<string, unknown> | undefined;
}

const valueAt = (value: unknown, pointer: string): unknown => {
  try {
    return pointer ? Value.Pointer.Get(value as object, pointer) : value;
  } catch {
    return undefined;
  }
};

export function schemaErrors(schema: TSchema, value: unknown, opts: SchemaErrorOptions = {}): string[] {
  const { style = 'pointer', base = '', max = Infinity } = opts;
  const all = [...(opts.errors ?? Value.Errors(schema, value))];
  const config = style === 'config';
  const path = (pointer: string): string =>
    config ? (base + pointer).replace(/^\//, '') || '(root)' : `${base}${pointer || (base ? '' : '/')}`;
  const out: string[] = [];
  const push = (line: string): boolean => {
    out.push(line);
    return out.length >= max;
  };

  // A failed union reports each branch; say it once, from the schema itself.
  const unions = new Map<string, string>();
  for (const e of all) {
    const m = /^(.*)\/anyOf(\/\d+)?$/.exec(e.schemaPath);
    if (!m || unions.has(e.instancePath)) continue;
    const branches = (resolvePointer(schema, m[1]!)?.anyOf as Array<{ const?: unknown; type?: unknown }> | undefined) ?? [];
    if (branches.length === 0) continue;
    const literals = branches.every((b) => b.const !== undefined);
    if (config && !literals) continue; // config style: only lists of values are summarised
    unions.set(
      e.instancePath,
      literals
        ? config
          ? `${JSON.stringify(valueAt(value, e.instancePath))} is not one of ${branches.map((b) => String(b.const)).join(', ')}`
          : `must be one of ${branches.map((b) => JSON.stringify(b.const)).join(', ')}`
        : `must be ${branches.map((b) => String(b.type ?? 'value')).join(' or ')}`,
    );
  }
  const said = new Set<string>();
  for (const e of all) {
    const union = unions.get(e.instancePath);
    if (union !== undefined) {
      if (said.has(e.instancePath)) continue;
      said.add(e.instancePath);
      if (push(`${path(e.instancePath)}: ${union}`)) return out;
      continue;
    }
    if (config) {
      if (e.keyword === 'additionalProperties') continue; // reported per key by the 'boolean' error below
      if (e.keyword === 'boolean') {
        const parent = resolvePointer(schema, e.schemaPath.replace(/\/additionalProperties$/, ''));
        const known = Object.keys((parent?.properties as object | undefined) ?? {});
        if (push(`${path(e.instancePath)}: unknown key${known.length ? ` (known: ${known.join(', ')})` : ''}`)) return out;
        continue;
      }
      if (e.keyword === 'pattern') {
        const hint = resolvePointer(schema, e.schemaPath)?.hint;
        if (push(`${path(e.instancePath)}: ${JSON.stringify(valueAt(value, e.instancePath))} ${typeof hint === 'string' ? hint : e.message}`)) return out;
        continue;
      }
      if (e.keyword === 'required') {
        const missing = (e.params as { requiredProperties?: string[] }).requiredProperties ?? [];
        for (const m of missing) if (push(`${path(`${e.instancePath}/${m}`)}: required`)) return out;
        if (missing.length) continue;
      }
      if (push(`${path(e.instancePath)}: ${e.message}`)) return out;
      continue;
    }
    // typebox reports `additionalProperties: false` twice; keep the one that names the keys.
    if (e.keyword === 'boolean') continue;
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperties: string[] }).additionalProperties.join(', ')})` : '';
    if (push(`${path(e.instancePath)}: ${e.message}${extra}`)) return out;
  }
  return out;
}
