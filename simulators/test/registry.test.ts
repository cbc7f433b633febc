import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Value from 'typebox/value';
import { DEVICE_KINDS } from '@warden/contract';
import { DEVICE_TYPES, SimClock } from '../src/index.ts';
import type { DeviceContext, DeviceType } from '../src/device.ts';
import { createRng } from '../src/rng.ts';
import { silent } from './helpers.ts';

const DEVICES_DIR = fileURLToPath(new URL('../src/devices/', import.meta.url));

const isDeviceType = (v: unknown): v is DeviceType =>
  typeof v === 'object' && v !== null && typeof (v as DeviceType).type === 'string' && typeof (v as DeviceType).create === 'function';

/** Enough of a context to build a model and read its catalogue; nothing is published or scheduled. */
const inertContext = (id: string): DeviceContext => ({
  id,
  rng: createRng(id),
  clock: new SimClock(),
  log: silent,
  online: false,
  topic: (...s) => [id, ...s].join('/'),
  publish: () => undefined,
  drain: () => Promise.resolve(),
  after: () => ({ cancel: () => undefined }),
  every: () => ({ cancel: () => undefined }),
  poisson: () => ({ cancel: () => undefined }),
  dropOff: () => undefined,
  comeBack: () => Promise.resolve(),
});

describe('device registry', () => {
  it('registers every file in src/devices', async () => {
    const files = readdirSync(DEVICES_DIR).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBe(DEVICE_TYPES.length);
    for (const f of files) {
      const mod = (await import(`../src/devices/${f.slice(0, -'.ts'.length)}.ts`)) as Record<string, unknown>;
      const defs = Object.values(mod).filter(isDeviceType);
      expect(defs, `${f} exports one device type`).toHaveLength(1);
      expect(DEVICE_TYPES, `${f} is registered`).toContain(defs[0]);
      expect(f).toBe(`${defs[0]!.type}.ts`);
    }
  });

  it('types are unique, have contract kinds and distinct topic prefixes', () => {
    expect(new Set(DEVICE_TYPES.map((d) => d.type)).size).toBe(DEVICE_TYPES.length);
    expect(new Set(DEVICE_TYPES.map((d) => d.prefix)).size).toBe(DEVICE_TYPES.length);
    for (const d of DEVICE_TYPES) expect(DEVICE_KINDS).toContain(d.kind);
  });

  for (const def of DEVICE_TYPES) {
    it(`${def.type}: starts with no options, documents every option, and its actions match the catalogue`, () => {
      const opts = Value.Default(def.options, {});
      expect(Value.Check(def.options, opts)).toBe(true);
      for (const [key, schema] of Object.entries(def.options.properties)) {
        expect((schema as { description?: string }).description, `${def.type} option ${key}`).toBeTruthy();
      }
      const model = def.create(inertContext(`${def.prefix}-x`), opts as never, { id: `${def.prefix}-x`, type: def.type });
      expect(Object.keys(model.actions).sort()).toEqual(Object.keys(def.actions).sort());
    });
  }
});
