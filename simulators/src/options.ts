import type { Static, TObject } from 'typebox';
import Value from 'typebox/value';
import type { DeviceType } from './device.ts';
import { schemaErrors } from './schema-errors.ts';

/** Applies the type's defaults to a copy of `raw` and returns problems (with paths under `base`) if it does not fit. */
export function resolveOptions<S extends TObject>(
  def: DeviceType<S>,
  raw: Record<string, unknown> | undefined,
  base = '/options',
): { ok: true; value: Static<S> } | { ok: false; problems: string[] } {
  const value = Value.Default(def.options, Value.Clone(raw ?? {}));
  if (Value.Check(def.options, value)) return { ok: true, value: value as Static<S> };
  return { ok: false, problems: schemaErrors(def.options, value, base) };
}
