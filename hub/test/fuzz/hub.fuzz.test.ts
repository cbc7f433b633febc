/**
 * Fuzz: what the hub parses from outside. Uplink batches (examineUplink, the ingest's pure decision, 10,000 inputs),
 * then uplink, status and inventory payloads published over real MQTT by an authenticated gateway into a real hub
 * (every one must end as stored or as a counted, dead-lettered refusal, and the hub must keep answering), the hub config
 * loader with its energy section, and every REST body in the contract's API_ROUTES sent over HTTP to the same hub
 * (each answered below 500, every refusal with an error code and a message). Seed printed; replay with WARDEN_FUZZ_SEED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { API_ROUTES, EVENT_SCHEMAS, EventRecordSchema, GatewayStatusSchema, InventorySchema, REJECT_REASONS, TelemetryRecordSchema, gatewayTopic, type RouteDef } from '@warden/contract';
import { assertNoPollution, fc, fromSchema, fuzzRun, params, payloads, text, timeBounded, values } from '../../../contract/test/fuzz/kit.ts';
import { ConfigError, HubConfigSchema, parseHubConfig } from '../../src/config.ts';
import { EnergyConfigSchema } from '../../src/energy/config.ts';
import { examineUplink } from '../../src/ingest/uplink.ts';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { api, connectGateway, eventually, login, metric, registered, testHub, type TestHub } from '../helpers.ts';

const RUNS = 10_000;
/** Messages per channel over real MQTT (each is a full ingest: parse, validate, store, ack). */
const MQTT_RUNS = Number(process.env.WARDEN_FUZZ_MQTT_RUNS ?? 10_000);
/** QoS 1 publishes a fuzzing gateway keeps unacknowledged (a real edge keeps several batches in flight too). */
const MQTT_WINDOW = 64;
/** HTTP requests in all, spread over the routes that take a body (each route's body validator also gets RUNS in-process). */
const HTTP_RUNS = Number(process.env.WARDEN_FUZZ_HTTP_RUNS ?? 4_600);
const CASE_MS = 2_000;
const TIMEOUT = 600_000;
const GW = 'gw-fuzz';
const DEVICES = ['door-1', 'meter-1'];

const eventRecord = fc.constantFrom(...Object.keys(EVENT_SCHEMAS)).chain((type) =>
  fc
    .tuple(fromSchema(EventRecordSchema), fromSchema(EVENT_SCHEMAS[type as keyof typeof EVENT_SCHEMAS]), fc.constantFrom(...DEVICES, 'stranger-1'))
    .map(([r, data, device]) => ({ ...(r as object), kind: 'event', type, data, device, ts: Date.now() })),
);
const telemetryRecord = fc.tuple(fromSchema(TelemetryRecordSchema), fc.constantFrom(...DEVICES)).map(([r, device]) => ({ ...(r as object), device, ts: Date.now() }));
const batch = fc.array(fc.oneof(eventRecord, telemetryRecord), { maxLength: 5 }).map((records) => ({ v: 1, gw: GW, records }));

/**
 * The device registry as examineUplink sees it, in both of its shapes: a plain owner function, and a lookup object with
 * owner() and adoptedKind() (devices must be adopted by the hub before they speak).
 */
function registry(owner: (device: string) => string | undefined): Parameters<typeof examineUplink>[2] {
  return Object.assign((d: string) => owner(d), { owner, adoptedKind: (d: string) => (owner(d) === undefined ? undefined : 'door') }) as never;
}

/** A reason code: REJECT_REASONS, or a snake_case code the ingest adds on its own. */
const REASON = /^[a-z][a-z_]*$/;

function passed(r: { numRuns: number }, cases: number, name: string): void {
  console.log(`[fuzz] ${name}: ${cases} cases passed`);
  expect(cases).toBeGreaterThanOrEqual(r.numRuns);
}

describe('fuzz: hub uplink decision (examineUplink)', () => {
  it(`${RUNS} uplink payloads: a plan or a refusal with a reason, never a throw`, () => {
    const r = fuzzRun('hub examineUplink', RUNS);
    let cases = 0;
    const owner = registry((d: string) => (DEVICES.includes(d) ? GW : d === 'stranger-1' ? 'gw-other' : undefined));
    fc.assert(
      fc.property(payloads(batch), (payload) => {
        cases++;
        const plan = timeBounded(CASE_MS, () => examineUplink(GW, payload, owner));
        assertNoPollution();
        const refusals = plan.ok ? plan.rejections : [plan.rejection];
        for (const x of refusals) {
          expect(x.reason).toMatch(REASON);
          expect(x.detail.length).toBeGreaterThan(0);
          expect(x.raw.length).toBeLessThanOrEqual(4096);
        }
        if (plan.ok && plan.upTo !== null) expect(Number.isSafeInteger(plan.upTo)).toBe(true);
      }),
      params(r),
    );
    passed(r, cases, 'hub examineUplink');
  }, TIMEOUT);
});

describe('fuzz: REST request validators (the compiled schemas fastify runs for every route)', () => {
  // Every body of API_ROUTES through the hub's validator compiler in-process, RUNS inputs each (the HTTP suite below sends
  // fewer per route: each is a full request), and every query string and path with PARAM_RUNS.
  const parts = Object.entries(API_ROUTES as Record<string, RouteDef>).flatMap(([key, def]) =>
    (['body', 'query', 'params'] as const).flatMap((part) => (def[part] ? [{ key, part, schema: def[part] }] : [])),
  );
  const PARAM_RUNS = 1_000;
  it(`${parts.filter((p) => p.part === 'body').length} bodies x ${RUNS}, ${parts.filter((p) => p.part !== 'body').length} query strings and paths x ${PARAM_RUNS} generated and mutated inputs: a value or errors with a path and a message, never a throw`, () => {
    expect(parts.filter((p) => p.part === 'body').length).toBeGreaterThan(10);
    let total = 0;
    let refused = 0;
    for (const { key, part, schema } of parts) {
      const r = fuzzRun(`hub REST ${part} ${key}`, part === 'body' ? RUNS : PARAM_RUNS);
      const validate = TypeBoxValidatorCompiler({ schema, method: key.split(' ')[0]!, url: key.split(' ')[1]!, httpPart: part === 'query' ? 'querystring' : part }) as (v: unknown) => { value?: unknown; error?: Array<{ message?: string; instancePath?: string }> };
      // query strings and paths arrive as strings: send their generated values as the strings a URL would carry
      const input = part === 'body' ? values(fromSchema(schema)) : values(fromSchema(schema)).map((v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : text(x)])) : v));
      let cases = 0;
      fc.assert(
        fc.property(input, (value) => {
          cases++;
          const out = timeBounded(CASE_MS, () => validate(value));
          if (out.error) {
            refused++;
            expect(out.error.length).toBeGreaterThan(0);
            for (const e of out.error) expect(typeof e.message === 'string' && e.message.length > 0 && typeof e.instancePath === 'string').toBe(true);
          } else expect('value' in out).toBe(true);
        }),
        params(r),
      );
      assertNoPollution();
      expect(cases).toBeGreaterThanOrEqual(r.numRuns);
      total += cases;
    }
    console.log(`[fuzz] hub REST validators: ${total} inputs over ${parts.length} schemas, ${refused} refused with their errors`);
  }, TIMEOUT);
});

describe('fuzz: hub config loader (with its energy section)', () => {
  it(`${RUNS} generated and mutated configs: loaded, or refused with a ConfigError listing problems`, () => {
    const config = fc
      .tuple(fromSchema(HubConfigSchema), fromSchema(EnergyConfigSchema), fc.boolean())
      .map(([c, energy, withEnergy]) => ({ ...(c as object), ...(withEnergy ? { energy } : {}), dataDir: '/tmp/warden-fuzz-never-created' }));
    const r = fuzzRun('hub config', RUNS);
    let cases = 0;
    let loaded = 0;
    fc.assert(
      fc.property(values(config as fc.Arbitrary<never>), (c) => {
        cases++;
        try {
          timeBounded(CASE_MS, () => parseHubConfig(c, {}, { baseDir: '/tmp', source: 'fuzz' }));
          loaded++;
        } catch (err) {
          if (!(err instanceof ConfigError)) throw new Error(`config loader threw ${String(err)} on ${text(c).slice(0, 300)}`);
          expect(err.errors.length).toBeGreaterThan(0);
        }
        assertNoPollution();
      }),
      params(r),
    );
    console.log(`[fuzz] hub config: ${loaded} of ${cases} configs loaded, the rest refused with their problems listed`);
    passed(r, cases, 'hub config');
  }, TIMEOUT);
});

describe('fuzz: a real hub (MQTT ingest and REST bodies)', () => {
  let t: TestHub;
  let gw: MqttClient;
  let token: string;

  beforeAll(async () => {
    t = await testHub(registered({ [GW]: { password: 'fuzz-gateway-password', devices: [{ id: 'door-1', kind: 'door' }, { id: 'meter-1', kind: 'meter' }] } }));
    const { password } = await t.hub.provisionGateway(GW);
    gw = await connectGateway(t.hub.mqttUrl, GW, password);
    await gw.publishAsync(
      gatewayTopic(GW, 'inventory'),
      JSON.stringify({ v: 1, gw: GW, ts: Date.now(), devices: [{ id: 'door-1', kind: 'door', driver: 'door-controller' }, { id: 'meter-1', kind: 'meter', driver: 'meter' }] }),
      { qos: 1 },
    );
    token = await login(t.hub);
  });
  afterAll(async () => {
    await gw?.endAsync();
    await t?.close();
  });

  const channels = [
    ['up', payloads(batch)],
    ['status', payloads(fromSchema(GatewayStatusSchema).map((s) => ({ ...(s as object), gw: GW })))],
    ['inventory', payloads(fromSchema(InventorySchema).map((s) => ({ ...(s as object), gw: GW })))],
  ] as const;

  for (const [channel, arb] of channels) {
    it(`${channel}: ${MQTT_RUNS} payloads over MQTT from an authenticated gateway; each stored or refused and counted; the hub keeps answering`, async () => {
      const r = fuzzRun(`hub mqtt ${channel}`, MQTT_RUNS);
      const samples = fc.sample(arb, { seed: r.seed, numRuns: r.numRuns });
      const rejectedBefore = await rejectedTotal(t);
      const batchesBefore = await metric(t.hub, 'warden_hub_batches_total');
      let oversized = 0;
      // Up to MQTT_WINDOW publishes in flight; the broker acknowledges each once the hub has handled it.
      const inflight = new Set<Promise<unknown>>();
      for (const p of samples) {
        if (p.length > 256 * 1024) {
          oversized++; // over the broker's packet limit: the broker refuses, the client may be dropped
          continue;
        }
        const sent: Promise<unknown> = gw.publishAsync(gatewayTopic(GW, channel), p, { qos: 1 }).finally(() => inflight.delete(sent));
        inflight.add(sent);
        if (inflight.size >= MQTT_WINDOW) await Promise.race(inflight);
      }
      await Promise.all(inflight);
      if (channel === 'up') await eventually(async () => (await metric(t.hub, 'warden_hub_batches_total')) - batchesBefore >= samples.length - oversized, 'every batch processed', 120_000);
      // every payload the contract refuses shows up as a counted refusal
      const refusedAtLeast = channel === 'up' ? samples.filter((p) => p.length <= 256 * 1024 && !examineUplink(GW, p, registry(() => GW)).ok).length : 0;
      await eventually(async () => (await rejectedTotal(t)) - rejectedBefore >= refusedAtLeast, `${refusedAtLeast} refusals counted`, 120_000);
      const health = await api(t.hub, token, '/api/health');
      expect(health.status).toBe(200);
      console.log(`[fuzz] hub mqtt ${channel}: ${samples.length - oversized} payloads ingested (${oversized} over the packet limit skipped), ${(await rejectedTotal(t)) - rejectedBefore} refusals counted`);
    }, TIMEOUT);
  }

  it(`REST: ${HTTP_RUNS} generated and mutated bodies over the routes with a body schema; never a 5xx, every refusal a code and a message`, async () => {
    const routes = Object.entries(API_ROUTES as Record<string, RouteDef>).filter(([, def]) => def.body);
    expect(routes.length).toBeGreaterThan(10);
    const perRoute = Math.ceil(HTTP_RUNS / routes.length);
    const r = fuzzRun(`hub REST bodies (${routes.length} routes x ${perRoute})`, perRoute * routes.length);
    const statuses = new Map<number, number>();
    let cases = 0;
    for (const [key, def] of routes) {
      const [method, path] = key.split(' ') as [string, string];
      const paramArb = def.params ? fromSchema(def.params) : fc.constant({});
      const samples = fc.sample(fc.tuple(values(fromSchema(def.body)), paramArb), { seed: r.seed, numRuns: perRoute });
      for (const [body, p] of samples) {
        cases++;
        const url = path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(String((p as Record<string, unknown>)[name] ?? 'x')));
        // never let the fuzzer lock itself out: the admin's own password stays
        if (/password/.test(path) && (p as { id?: string }).id === 'admin') continue;
        const res = await fetch(`${t.hub.httpUrl}${url}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: text(body) });
        const answer = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) throw new Error(`${key} answered ${res.status} to ${text(body).slice(0, 300)}: ${answer.slice(0, 300)}`);
        if (res.status === 401 && key !== 'POST /api/auth/login' && key !== 'POST /api/auth/password') token = await login(t.hub);
        if (res.status >= 400) {
          // the hub's error body: { error: { code, message } }
          const err = (JSON.parse(answer) as { error?: { code?: string; message?: string } }).error;
          const clear = typeof err?.code === 'string' && err.code.length > 0 && typeof err.message === 'string' && err.message.length > 0;
          expect(clear, `${key} ${res.status}: ${answer.slice(0, 200)}`).toBe(true);
        }
      }
    }
    assertNoPollution();
    console.log(`[fuzz] hub REST bodies: ${cases} requests over ${routes.length} routes; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect((await api(t.hub, token, '/api/health')).status).toBe(200);
  }, TIMEOUT);
});

async function rejectedTotal(t: TestHub): Promise<number> {
  let n = 0;
  for (const reason of REJECT_REASONS) n += await metric(t.hub, 'warden_hub_rejected_total', { reason });
  return n;
}
