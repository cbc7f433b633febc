import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS, EVENT_TYPES, isCommandAction } from '@warden/contract';
import { DRIVERS } from '../src/drivers/index.ts';

const folder = new URL('../src/drivers/', import.meta.url);
const testFolder = new URL('./drivers/', import.meta.url);

describe('driver registry', () => {
  const files = readdirSync(folder).filter((f) => f.endsWith('.ts') && f !== 'index.ts');

  it('registers every driver file, under the file name', async () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const mod = (await import(new URL(f, folder).href)) as { default: { name: string } };
      expect(mod.default.name, f).toBe(f.replace(/\.ts$/, ''));
      expect(DRIVERS.get(mod.default.name), `${f} is not in drivers/index.ts`).toBe(mod.default);
    }
    expect(DRIVERS.size).toBe(files.length);
  });

  it('has a golden test per driver', () => {
    const tests = new Set(readdirSync(testFolder));
    for (const f of files) expect(tests.has(f.replace(/\.ts$/, '.test.ts')), `missing test/drivers/${f.replace(/\.ts$/, '.test.ts')}`).toBe(true);
  });

  it('declares contract kinds, contract commands and {id} topics', () => {
    for (const d of DRIVERS.values()) {
      expect(DEVICE_KINDS).toContain(d.kind);
      for (const action of Object.keys(d.commands)) expect(isCommandAction(action), `${d.name}: ${action}`).toBe(true);
      for (const t of [...Object.keys(d.uplinks), ...Object.keys(d.replies)]) expect(t.split('/')[1], `${d.name}: ${t}`).toBe('{id}');
    }
    expect(EVENT_TYPES).toContain('command.result');
  });
});
