/**
 * Fuzz: what a gateway parses from outside. Every driver's native messages (uplinks and command replies, through the
 * real FieldIngest and a real SQLite outbox, as the field broker delivers them), hub commands (CommandRouter), gallery
 * deltas (GallerySyncClient on a real Gallery), ONVIF notifications and WS-Discovery answers, Modbus register words,
 * and the gateway config loader. Generated from the drivers' and the contract's own schemas, then mutated (kit.ts).
 * Asserted per input: no throw escapes, no slow case, and an input that produced nothing was refused with a counted
 * reason (or is a well-formed message that carried no news). Seed printed; replay with WARDEN_FUZZ_SEED.
 */
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_SCHEMAS, CommandSchema, GalleryDeltaSchema, REJECT_REASONS, encodeTemplate, validateRecord, type RejectReason } from '@warden/contract';
import { fc, fromSchema, fuzzRun, params, payloads, text, timeBounded, timeBoundedAsync, values, assertNoPollution } from '../../../contract/test/fuzz/kit.ts';
import { parseNotification } from '../../src/camera/notifications.ts';
import { parseProbeMatch } from '../../src/camera/discovery.ts';
import { CommandRouter } from '../../src/commands.ts';
import { EdgeConfigError, EdgeConfigSchema, parseEdgeConfig } from '../../src/config.ts';
import { buildDeviceTable } from '../../src/devices.ts';
import { DRIVERS } from '../../src/drivers/index.ts';
import type { Emission } from '../../src/driver.ts';
import { Gallery } from '../../src/face/gallery.ts';
import { GallerySyncClient } from '../../src/face/sync.ts';
import { FieldIngest } from '../../src/ingest.ts';
import { EdgeMetrics } from '../../src/metrics.ts';
import { decodeRegister } from '../../src/modbus/codec.ts';
import { Outbox } from '../../src/outbox.ts';
import { NOW, silent, tempDir } from '../helpers.ts';

const RUNS = 10_000;
const CASE_MS = 2_000;
const TIMEOUT = 600_000;

const OPTIONS: Record<string, Record<string, unknown>> = {
  'door-controller': { unlockSeconds: 7 },
  'face-terminal': { mode: 'access', door: 'door-1' },
  meter: { medium: 'water' },
  'onvif-camera': { xaddr: 'http://10.1.2.3/onvif/device_service', password: 'secret' },
};

const tmp = tempDir('warden-edge-fuzz-');
afterAll(() => tmp.remove());

const rejectedTotal = (m: EdgeMetrics) => REJECT_REASONS.reduce((n, r) => n + m.get(`rejected.${r}`), 0);

function passed(r: { numRuns: number }, cases: number, name: string): void {
  console.log(`[fuzz] ${name}: ${cases} cases passed`);
  expect(cases).toBeGreaterThanOrEqual(r.numRuns);
}

describe('fuzz: edge drivers (native messages through the real ingest and outbox)', () => {
  for (const driver of DRIVERS.values()) {
    const patterns = [...Object.entries(driver.uplinks).map(([t, u]) => [t, u.schema] as const), ...Object.entries(driver.replies).map(([t, r]) => [t, r.schema] as const)];
    if (patterns.length === 0) continue; // modbus-meter: polled registers, fuzzed below through the register codec
    it(`${driver.name}: ${RUNS} native messages over ${patterns.map((p) => p[0]).join(', ')}`, () => {
      const id = 'dev-fuzz-1';
      const cfg = parseEdgeConfig({ gateway: { id: 'gw-fuzz' }, field: { requireAuth: false }, outbox: { path: join(tmp.dir, `${driver.name}.db`) }, devices: [{ id, driver: driver.name, options: OPTIONS[driver.name] ?? {} }] });
      const devices = buildDeviceTable(cfg.devices);
      const outbox = Outbox.open(cfg.outbox.path);
      const metrics = new EdgeMetrics({ backlog: () => outbox.backlog(), hubConnected: () => false, devicesOnline: () => 0 });
      let committed = 0;
      let replies = 0;
      const ingest = new FieldIngest({
        devices,
        outbox,
        metrics,
        logger: silent,
        onRecords: (records) => {
          for (const rec of records) {
            const v = validateRecord(rec);
            if (!v.ok) throw new Error(`driver produced a record the hub would refuse: ${v.detail}`);
          }
          committed += records.length;
        },
        onReply: () => replies++,
        now: () => NOW,
      });
      const device = devices.get(id)!;
      const arb = fc.tuple(fc.nat(patterns.length - 1), fc.oneof(...patterns.map(([, schema]) => payloads(fromSchema(schema)))));
      const r = fuzzRun(`edge driver ${driver.name}`, RUNS);
      let cases = 0;
      try {
        fc.assert(
          fc.property(arb, ([i, payload]) => {
            cases++;
            const topic = patterns[i]![0].replace('{id}', id);
            const before = { rejected: rejectedTotal(metrics), committed, replies };
            timeBounded(CASE_MS, () => ingest.handle(id, topic, payload));
            assertNoPollution();
            if (rejectedTotal(metrics) > before.rejected || committed > before.committed || replies > before.replies) return;
            // Nothing came out and nothing was refused: only a well-formed message may do that (a state report without a change).
            let parsed: unknown;
            try {
              parsed = JSON.parse(payload.toString('utf8'));
            } catch {
              throw new Error('malformed payload neither refused nor counted');
            }
            expect(device.topics.get(topic)!.check.check(parsed)).toBe(true);
          }),
          params(r),
        );
      } finally {
        outbox.close();
      }
      passed(r, cases, `edge driver ${driver.name}`);
    }, TIMEOUT);
  }

  it(`modbus register codec: ${RUNS} word sequences of every register type, never a throw`, () => {
    const r = fuzzRun('edge modbus decodeRegister', RUNS);
    let cases = 0;
    const word = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer(), fc.double(), fc.constant(Number.NaN));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 3 }), fc.constantFrom('u16', 'i16', 'u32', 'i32', 'float32'), fc.constantFrom('big', 'little'), (words, type, order) => {
        cases++;
        let out: number | undefined;
        try {
          out = decodeRegister(words, type as 'u16', order as 'big');
        } catch (err) {
          // a short block is refused with a message, never a crash deeper in
          expect((err as Error).message.length).toBeGreaterThan(0);
          return;
        }
        expect(typeof out).toBe('number');
      }),
      params(r),
    );
    passed(r, cases, 'edge modbus decodeRegister');
  }, TIMEOUT);
});

describe('fuzz: hub -> gateway messages', () => {
  it(`commands: ${RUNS} command payloads through the CommandRouter; every refusal counted and answered when identifiable`, () => {
    const cfg = parseEdgeConfig({
      gateway: { id: 'gw-fuzz' },
      field: { requireAuth: false },
      outbox: { path: join(tmp.dir, 'cmd.db') },
      devices: [
        { id: 'door-1', driver: 'door-controller', options: {} },
        { id: 'gate-1', driver: 'turnstile', options: {} },
        { id: 'relay-1', driver: 'relay-actuator', options: {} },
      ],
    });
    const devices = buildDeviceTable(cfg.devices);
    const refused: RejectReason[] = [];
    const results: Emission[] = [];
    let sent = 0;
    const metrics = new EdgeMetrics({ backlog: () => 0, hubConnected: () => true, devicesOnline: () => 3 });
    const router = new CommandRouter({
      devices,
      isOnline: (d) => d !== 'relay-1',
      sendNative: async () => {
        sent++;
      },
      emit: (_d, e) => results.push(...e),
      refuse: (reason) => refused.push(reason),
      metrics,
      logger: silent,
      timeoutMs: 60_000,
      now: () => NOW,
    });
    const command = fc.constantFrom(...Object.keys(COMMAND_SCHEMAS)).chain((action) =>
      fc
        .tuple(fromSchema(CommandSchema), fromSchema(COMMAND_SCHEMAS[action as keyof typeof COMMAND_SCHEMAS]), fc.constantFrom('door-1', 'gate-1', 'relay-1', 'nope-1'))
        .map(([c, p, device]) => ({ ...(c as object), device, action, params: p })),
    );
    const r = fuzzRun('edge commands', RUNS);
    let cases = 0;
    try {
      fc.assert(
        fc.property(payloads(command), (payload) => {
          cases++;
          const before = { refused: refused.length, results: results.length, sent, pending: router.pendingCount() };
          timeBounded(CASE_MS, () => router.handle(payload));
          assertNoPollution();
          for (const reason of refused.slice(before.refused)) expect(REJECT_REASONS).toContain(reason);
          for (const e of results.slice(before.results)) {
            expect(e.kind === 'event' && e.type).toBe('command.result');
            const v = validateRecord({ id: 'x0000000', seq: 1, device: 'door-1', ts: NOW, ...e });
            if (!v.ok) throw new Error(`command.result the hub would refuse: ${v.detail}`);
          }
          // every input had an outcome: refused, answered, sent to the device, or a redelivery of one already handled
          const outcome = refused.length > before.refused || results.length > before.results || sent > before.sent;
          if (!outcome) expect(JSON.parse(payload.toString())).toHaveProperty('id');
        }),
        params(r),
      );
    } finally {
      router.stop();
    }
    passed(r, cases, 'edge commands');
  }, TIMEOUT);

  it(`gallery deltas: ${RUNS} deltas through the GallerySyncClient on a real gallery; refusals counted, never a throw`, async () => {
    const DIM = 8;
    const gallery = new Gallery(DIM, 64);
    const refusals: RejectReason[] = [];
    const registry = new Registry();
    const client = new GallerySyncClient({
      gatewayId: 'gw-fuzz',
      gallery,
      model: 'fuzz-model',
      save: async () => {},
      stateFile: join(tmp.dir, 'gallery-state.json'),
      refuse: (reason) => refusals.push(reason),
      registry,
      logger: silent,
    });
    const template = fc.float32Array({ minLength: DIM, maxLength: DIM, noNaN: true }).map((t) => encodeTemplate(t));
    const person = fromSchema((GalleryDeltaSchema as unknown as { properties: { upsert: { items: unknown } } }).properties.upsert.items).chain((p) =>
      fc.array(template, { maxLength: 2 }).map((templates) => ({ ...(p as object), templates })),
    );
    // mostly the right gateway, model and base, so deltas get past the first checks and into the gallery
    const delta = fc
      .tuple(fromSchema(GalleryDeltaSchema), fc.array(person, { maxLength: 3 }), fc.boolean())
      .map(([d, upsert, ours]) => ({ ...(d as object), ...(ours ? { gw: 'gw-fuzz', model: 'fuzz-model', base: client.version, part: 1, parts: 1 } : {}), upsert }));
    const r = fuzzRun('edge gallery deltas', RUNS);
    let cases = 0;
    const counted = async () => (await registry.getSingleMetric('warden_edge_gallery_deltas_total')!.get()).values.reduce((n, v) => n + v.value, 0);
    await fc.assert(
      fc.asyncProperty(payloads(delta), async (payload) => {
        cases++;
        const before = await counted();
        const result = await timeBoundedAsync(CASE_MS, () => client.handle(payload));
        assertNoPollution();
        expect(['applied', 'partial', 'stale', 'refused']).toContain(result);
        expect(await counted()).toBe(before + 1);
        if (result === 'refused') expect(REJECT_REASONS).toContain(refusals[refusals.length - 1]);
      }),
      params(r),
    );
    console.log(`[fuzz] edge gallery deltas: gallery holds ${gallery.personCount} persons at version ${client.version}`);
    passed(r, cases, 'edge gallery deltas');
  }, TIMEOUT);
});

describe('fuzz: camera parsing (ONVIF notifications, WS-Discovery answers)', () => {
  const item = fc.record({ $: fc.record({ Name: fc.constantFrom('State', 'IsMotion', 'IsTamper', 'LogicalState', 'Other'), Value: fc.oneof(fc.boolean(), fc.integer(), fc.string(), fc.constantFrom('true', 'false', ' 1 ', 'maybe')) }) });
  const notification = fc.record({
    topic: fc.oneof(
      fc.constantFrom('tns1:VideoSource/MotionAlarm', 'tns1:RuleEngine/CellMotionDetector/Motion', 'tns1:VideoSource/GlobalSceneChange/ImagingService', 'tns1:RuleEngine/TamperDetector/Tamper'),
      fc.record({ _: fc.string(), $: fc.object() }),
    ),
    message: fc.record({
      message: fc.record({
        $: fc.record({ UtcTime: fc.oneof(fc.date(), fc.string(), fc.integer()), PropertyOperation: fc.oneof(fc.constantFrom('Changed', 'Initialized'), fc.integer()) }),
        data: fc.record({ simpleItem: fc.oneof(item, fc.array(item, { maxLength: 4 })) }),
      }),
    }),
  });
  const probe = fc.record({
    probeMatches: fc.record({
      probeMatch: fc.record({
        endpointReference: fc.record({ address: fc.oneof(fc.constant('urn:uuid:1'), fc.string()) }),
        XAddrs: fc.oneof(fc.constant('http://10.0.0.1/onvif/device_service https://x'), fc.string(), fc.integer()),
        scopes: fc.oneof(fc.constant('onvif://www.onvif.org/name/Cam%2 onvif://www.onvif.org/type/ptz'), fc.string()),
      }),
    }),
  });

  it(`notifications: ${RUNS} parsed shapes, each an event or null`, () => {
    const r = fuzzRun('edge onvif notifications', RUNS);
    let cases = 0;
    fc.assert(
      fc.property(values(notification as fc.Arbitrary<never>), (n) => {
        cases++;
        const out = timeBounded(CASE_MS, () => parseNotification(n as Record<string, unknown>));
        if (out !== null) {
          expect(['motion', 'tamper']).toContain(out.kind);
          expect(typeof out.state).toBe('boolean');
          expect(out.at === null || Number.isFinite(out.at)).toBe(true);
        }
      }),
      params(r),
    );
    passed(r, cases, 'edge onvif notifications');
  }, TIMEOUT);

  it(`discovery answers: ${RUNS} parsed shapes, each a proposal or null`, () => {
    const r = fuzzRun('edge ws-discovery probe matches', RUNS);
    let cases = 0;
    fc.assert(
      fc.property(values(probe as fc.Arbitrary<never>), (m) => {
        cases++;
        const out = timeBounded(CASE_MS, () => parseProbeMatch(m));
        if (out !== null) expect(out.xaddrs.length).toBeGreaterThan(0);
      }),
      params(r),
    );
    passed(r, cases, 'edge ws-discovery probe matches');
  }, TIMEOUT);
});

describe('fuzz: gateway config loader', () => {
  it(`parseEdgeConfig: ${RUNS} generated and mutated configs, each loaded or refused with an EdgeConfigError listing problems`, () => {
    const device = fc.constantFrom(...DRIVERS.keys()).chain((driver) => fc.record({ id: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), driver: fc.constant(driver), options: fc.constant(OPTIONS[driver] ?? {}) }));
    const config = fc
      .tuple(fromSchema(EdgeConfigSchema), fc.array(device, { maxLength: 4 }))
      .map(([c, devices]) => ({ ...(c as object), gateway: { id: 'gw-fuzz' }, field: { requireAuth: false }, outbox: { path: join(tmp.dir, 'cfg-outbox.db') }, devices }));
    const r = fuzzRun('edge config', RUNS);
    let cases = 0;
    let loaded = 0;
    fc.assert(
      fc.property(values(config as fc.Arbitrary<never>), (c) => {
        cases++;
        try {
          timeBounded(CASE_MS, () => parseEdgeConfig(c, 'fuzz.yaml', { baseDir: tmp.dir, env: {} }));
          loaded++;
        } catch (err) {
          if (!(err instanceof EdgeConfigError)) throw new Error(`config loader threw ${String(err)} on ${text(c).slice(0, 300)}`);
          expect(err.errors.length).toBeGreaterThan(0);
          for (const e of err.errors) expect(e.length).toBeGreaterThan(0);
        }
        assertNoPollution();
      }),
      params(r),
    );
    console.log(`[fuzz] edge config: ${loaded} of ${cases} configs loaded, the rest refused with their problems listed`);
    passed(r, cases, 'edge config');
  }, TIMEOUT);
});
