import { DEVICE_KINDS, EVENT_SCHEMAS, EVENT_TYPES } from '@warden/contract';
import { describe, expect, it } from 'vitest';
import { en } from '../src/i18n/en.ts';
import { zh } from '../src/i18n/zh.ts';

/** Every leaf path of a message catalogue, e.g. `nav > events` (event type keys contain dots themselves). */
function paths(obj: Record<string, unknown>, prefix: string[] = []): string[][] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' ? paths(v as Record<string, unknown>, [...prefix, k]) : [[...prefix, k]],
  );
}
const keys = (cat: object) => paths(cat as Record<string, unknown>).map((p) => p.join(' > '));
const at = (cat: object, key: string): unknown => key.split(' > ').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], cat);

function placeholders(s: string): string[] {
  return [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]!).sort();
}

describe('message catalogues', () => {
  it('Chinese and English have exactly the same keys', () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort());
  });

  it('every message is a non-empty string', () => {
    for (const [name, cat] of [['zh', zh], ['en', en]] as const) {
      for (const k of keys(cat)) {
        const v = at(cat, k);
        expect(typeof v === 'string' && v.trim().length > 0, `${name}: ${k}`).toBe(true);
      }
    }
  });

  it('both languages use the same interpolation placeholders', () => {
    for (const k of keys(zh)) {
      expect(placeholders(at(en, k) as string), k).toEqual(placeholders(at(zh, k) as string));
    }
  });

  it('every event type of the contract has a label in both languages', () => {
    for (const type of EVENT_TYPES) {
      expect(zh.eventTypes[type], `zh ${type}`).toBeTruthy();
      expect(en.eventTypes[type], `en ${type}`).toBeTruthy();
    }
    expect(Object.keys(zh.eventTypes).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('every device kind of the contract has a label in both languages', () => {
    for (const kind of DEVICE_KINDS) {
      expect(zh.deviceKinds[kind], `zh ${kind}`).toBeTruthy();
      expect(en.deviceKinds[kind], `en ${kind}`).toBeTruthy();
    }
    expect(Object.keys(zh.deviceKinds).sort()).toEqual([...DEVICE_KINDS].sort());
  });

  it('labels the data fields of every event schema', () => {
    for (const [type, schema] of Object.entries(EVENT_SCHEMAS)) {
      for (const field of Object.keys((schema as { properties?: object }).properties ?? {})) {
        expect(zh.dataKeys[field], `zh data field ${type}.${field}`).toBeTruthy();
      }
    }
  });
});
