import { readFileSync, readdirSync } from 'node:fs';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS, EVENT_TYPES, isCommandAction } from '@warden/contract';
import { DRIVERS, checkDriver } from '../src/drivers/index.ts';
import { TRANSPORTS } from '../src/transports/index.ts';

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

describe('transports', () => {
  const transportFolder = new URL('../src/transports/', import.meta.url);
  const files = readdirSync(transportFolder).filter((f) => f.endsWith('.ts') && f !== 'index.ts' && f !== 'transport.ts');

  it('registers every transport file, under the file name', async () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const mod = (await import(new URL(f, transportFolder).href)) as { default: { name: string } };
      expect(mod.default.name, f).toBe(f.replace(/\.ts$/, ''));
      expect(TRANSPORTS.get(mod.default.name), `${f} is not in transports/index.ts`).toBe(mod.default);
    }
    expect(TRANSPORTS.size).toBe(files.length);
  });

  it('every driver names a transport and carries its connection options', () => {
    for (const d of DRIVERS.values()) {
      expect(TRANSPORTS.has(d.transport), `${d.name}: ${d.transport}`).toBe(true);
      expect(checkDriver(d)).toEqual([]);
    }
    expect(DRIVERS.get('modbus-meter')!.transport).toBe('modbus-tcp');
    expect(DRIVERS.get('door-controller')!.transport).toBe('field-mqtt');
  });

  it('refuses a driver with an unknown transport or without the transport options', () => {
    const base = { name: 'x', kind: 'meter', description: '', initialState: () => undefined, uplinks: {}, replies: {}, commands: {} } as const;
    expect(checkDriver({ ...base, transport: 'carrier-pigeon', options: Type.Object({}) })).toEqual([
      'driver x: unknown transport "carrier-pigeon" (known: field-mqtt, modbus-tcp, onvif)',
    ]);
    const problems = checkDriver({ ...base, transport: 'modbus-tcp', options: Type.Object({ host: Type.String() }) });
    expect(problems).toContain("driver x: options must include the modbus-tcp transport's option host");
    expect(problems).toContain("driver x: options must include the modbus-tcp transport's option unitId");
  });

  it('the agent has no per-driver special case: no driver name appears in agent.ts', () => {
    const agent = readFileSync(new URL('../src/agent.ts', import.meta.url), 'utf8');
    for (const name of DRIVERS.keys()) expect(agent.includes(`'${name}'`), `agent.ts mentions '${name}'`).toBe(false);
  });
});
