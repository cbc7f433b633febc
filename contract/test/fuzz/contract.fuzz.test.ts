/**
 * Fuzz: the contract's MQTT payload validators, the ones hub and gateways run on every message: uplink batches and
 * their records, gateway status, inventory, acks, commands, gallery deltas (and template decoding). Each gets 10,000
 * generated and mutated inputs; every answer must be a value or a refusal with a reason code and a message, never a
 * throw, never a slow case. Seed printed; replay with WARDEN_FUZZ_SEED.
 */
import { describe, expect, it } from 'vitest';
import {
  AckSchema,
  CommandSchema,
  COMMAND_SCHEMAS,
  EVENT_SCHEMAS,
  EventRecordSchema,
  GalleryDeltaSchema,
  GatewayStatusSchema,
  InventorySchema,
  REJECT_REASONS,
  TelemetryRecordSchema,
  UplinkBatchSchema,
  compile,
  decodeTemplate,
  parseJson,
  validateAck,
  validateBatchEnvelope,
  validateCommand,
  validateInventory,
  validateRecord,
  validateStatus,
  type Result,
} from '../../src/index.ts';
import { assertNoPollution, fc, fromSchema, fuzzRun, params, payloads, timeBounded } from './kit.ts';

const RUNS = 10_000;
const CASE_MS = 2_000;

function expectClear(r: Result<unknown>): void {
  if (r.ok) return;
  expect(REJECT_REASONS).toContain(r.reason);
  expect(typeof r.detail).toBe('string');
  expect(r.detail.length).toBeGreaterThan(0);
}

/** A valid event record of any contract type, with its type's data. */
const eventRecord = fc.constantFrom(...Object.keys(EVENT_SCHEMAS)).chain((type) =>
  fc.tuple(fromSchema(EventRecordSchema), fromSchema(EVENT_SCHEMAS[type as keyof typeof EVENT_SCHEMAS])).map(([r, data]) => ({ ...(r as object), kind: 'event', type, data })),
);
const record = fc.oneof(eventRecord, fromSchema(TelemetryRecordSchema));
const batch = fc.tuple(fromSchema(UplinkBatchSchema), fc.array(record, { maxLength: 6 })).map(([b, records]) => ({ ...(b as object), records }));
const command = fc.constantFrom(...Object.keys(COMMAND_SCHEMAS)).chain((action) =>
  fc.tuple(fromSchema(CommandSchema), fromSchema(COMMAND_SCHEMAS[action as keyof typeof COMMAND_SCHEMAS])).map(([c, p]) => ({ ...(c as object), action, params: p })),
);

/** One payload through parse + validate, as the hub's ingest does it. */
function uplink(payload: Buffer): void {
  const parsed = parseJson(payload);
  expectClear(parsed);
  if (!parsed.ok) return;
  const env = validateBatchEnvelope(parsed.value);
  expectClear(env);
  if (!env.ok) return;
  for (const r of env.value.records) expectClear(validateRecord(r));
}

function parsedThen(validate: (v: unknown) => Result<unknown>) {
  return (payload: Buffer) => {
    const parsed = parseJson(payload);
    expectClear(parsed);
    if (parsed.ok) expectClear(validate(parsed.value));
  };
}

const deltaV = compile(GalleryDeltaSchema);
function galleryDelta(payload: Buffer): void {
  const parsed = parseJson(payload);
  expectClear(parsed);
  if (!parsed.ok) return;
  if (!deltaV.check(parsed.value)) {
    expect(deltaV.explain(parsed.value).length).toBeGreaterThan(0);
    return;
  }
  for (const p of parsed.value.upsert) {
    for (const t of p.templates) {
      try {
        decodeTemplate(t);
      } catch (err) {
        // the one documented refusal: not a whole number of float32
        expect((err as Error).message).toMatch(/float32/);
      }
    }
  }
}

const SUITES: Array<[string, fc.Arbitrary<Buffer>, (p: Buffer) => void]> = [
  ['uplink batch (envelope + every record)', payloads(batch), uplink],
  ['gateway status', payloads(fromSchema(GatewayStatusSchema)), parsedThen(validateStatus)],
  ['inventory', payloads(fromSchema(InventorySchema)), parsedThen(validateInventory)],
  ['ack', payloads(fromSchema(AckSchema)), parsedThen(validateAck)],
  ['command', payloads(command), parsedThen(validateCommand)],
  ['gallery delta', payloads(fromSchema(GalleryDeltaSchema)), galleryDelta],
];

describe('fuzz: contract validators', () => {
  for (const [name, arb, run] of SUITES) {
    it(`${name}: ${RUNS} generated and mutated payloads, no throw, no slow case, every refusal a reason and a message`, () => {
      const r = fuzzRun(`contract ${name}`, RUNS);
      let cases = 0;
      fc.assert(
        fc.property(arb, (payload) => {
          cases++;
          timeBounded(CASE_MS, () => run(payload));
          assertNoPollution();
        }),
        params(r),
      );
      console.log(`[fuzz] contract ${name}: ${cases} cases passed`);
      expect(cases).toBeGreaterThanOrEqual(r.numRuns);
    }, 600_000);
  }

  it('the generator makes valid samples (otherwise the fuzz would only exercise the first refusal)', () => {
    const samples = fc.sample(batch.map((b) => validateBatchEnvelope(b).ok), { seed: 1, numRuns: 200 });
    expect(samples.filter(Boolean).length).toBeGreaterThan(100);
    const cmds = fc.sample(command.map((c) => validateCommand(c).ok), { seed: 1, numRuns: 200 });
    expect(cmds.filter(Boolean).length).toBeGreaterThan(100);
    const recs = fc.sample(record.map((c) => validateRecord(c).ok), { seed: 1, numRuns: 200 });
    expect(recs.filter(Boolean).length).toBeGreaterThan(100);
  }, 300_000);
});
