import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { MediumSchema, schemaErrors } from '../src/index.ts';

const Schema = Type.Object(
  {
    gateway: Type.Object({ id: Type.String({ pattern: '^[a-z]+$', hint: 'must be lower-case letters' }) }, { additionalProperties: false }),
    medium: MediumSchema,
    count: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
const bad = { gateway: { id: 'GW', colour: 'red' }, medium: 'steam', count: 0, extra: 1 };

describe('the schema-error formatter', () => {
  it('pointer style: JSON-pointer paths, a union of literals said once, forbidden keys named', () => {
    const lines = schemaErrors(Schema, bad);
    expect(lines).toContain('/medium: must be one of "power", "water", "gas"');
    expect(lines).toContain('/: must not have additional properties (extra)');
    expect(lines).toContain('/gateway: must not have additional properties (colour)');
    expect(schemaErrors(Schema, { gateway: { id: 'a' }, medium: 'gas', count: 0 })).toEqual(['/count: must be >= 1']);
    expect(lines.filter((l) => l.startsWith('/medium')).length).toBe(1);
    expect(schemaErrors(Schema, bad, { max: 2 })).toHaveLength(2);
    expect(schemaErrors(Schema.properties.gateway, bad.gateway, { base: '/gateway' })).toContain('/gateway: must not have additional properties (colour)');
  });

  it('config style: plain paths, unknown keys with the known ones, values not in a list, pattern hints, required keys', () => {
    const lines = schemaErrors(Schema, bad, { style: 'config' });
    expect(lines).toContain('medium: "steam" is not one of power, water, gas');
    expect(lines).toContain('extra: unknown key (known: gateway, medium, count)');
    expect(lines).toContain('gateway/colour: unknown key (known: id)');
    expect(lines).toContain('gateway/id: "GW" must be lower-case letters');
    expect(schemaErrors(Schema, { medium: 'gas' }, { style: 'config' })).toEqual(['gateway: required', 'count: required']);
  });
});
