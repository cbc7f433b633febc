import { API_ROUTES } from '@warden/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, testHub, type TestHub } from './helpers.ts';

/** The hub serves exactly the contract's route map (contract/src/api/), each route with the contract's schemas. */
describe('REST routes and the contract', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await testHub();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every route of the hub is in the contract route map and every contract route is served', async () => {
    const doc = (await api<{ paths: Record<string, Record<string, { summary?: string }>> }>(t.hub, null, '/api/openapi.json')).body;
    const served = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`));
    expect(served.sort()).toEqual(Object.keys(API_ROUTES).sort());
    // The summary documented in the OpenAPI description is the contract's: the route took its schema from there.
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        const key = `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}` as keyof typeof API_ROUTES;
        expect(op.summary, key).toBe(API_ROUTES[key].summary);
      }
    }
  });
});
