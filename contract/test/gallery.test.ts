import { describe, expect, it } from 'vitest';
import { GATEWAY_SUBSCRIBES, GalleryDeltaSchema, compile, decodeTemplate, encodeTemplate, gatewayTopic, parseGatewayTopic, validateStatus } from '../src/index.ts';

const deltaV = compile(GalleryDeltaSchema);

describe('gallery sync contract', () => {
  it('has a gallery channel the gateway subscribes to in its own subtree', () => {
    expect(GATEWAY_SUBSCRIBES).toContain('gallery');
    expect(parseGatewayTopic(gatewayTopic('gw-1', 'gallery'))).toEqual({ gatewayId: 'gw-1', channel: 'gallery' });
  });

  it('round-trips a template through base64 exactly', () => {
    const t = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i) / 7);
    expect(Array.from(decodeTemplate(encodeTemplate(t)))).toEqual(Array.from(t));
    expect(() => decodeTemplate(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/float32/);
  });

  it('accepts a well-formed delta and names what is wrong with a bad one', () => {
    const ok = { v: 1, gw: 'gw-1', base: 3, to: 5, reset: false, part: 1, parts: 1, model: 'faceapi-recognition', upsert: [{ id: 'p1', watchlist: false, credentials: ['c1'], templates: [], thresholds: { cam: 0.95 } }], revoke: ['p2'] };
    expect(deltaV.check(ok)).toBe(true);
    const bad = { ...ok, upsert: [{ ...ok.upsert[0], thresholds: { cam: 2 } }] };
    expect(deltaV.check(bad)).toBe(false);
    expect(deltaV.explain(bad)).toMatch(/thresholds/);
  });

  it('lets a status carry the gallery version the gateway holds', () => {
    expect(validateStatus({ v: 1, gw: 'gw-1', state: 'online', ts: Date.now(), gallery: { version: 7, model: 'faceapi-recognition' } }).ok).toBe(true);
    expect(validateStatus({ v: 1, gw: 'gw-1', state: 'online', ts: Date.now(), gallery: { version: -1 } }).ok).toBe(false);
  });
});
