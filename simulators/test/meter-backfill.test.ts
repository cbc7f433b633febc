import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevice, type SimDevice } from '../src/index.ts';
import { record, silent, startBroker, type Recorder, type TestBroker } from './helpers.ts';

/**
 * A meter with `backfillDays` publishes its history before going live: past source timestamps in order, one
 * per `backfillStepS`, a register that never decreases and that the live readings continue.
 */
describe('meter backfill', () => {
  let broker: TestBroker;
  let rec: Recorder;
  let meter: SimDevice;

  beforeAll(async () => {
    broker = await startBroker();
    rec = await record(broker.url);
  });
  afterAll(async () => {
    await meter?.stop();
    await rec?.close();
    await broker?.close();
  });

  it('publishes 3 days of quarter-hour readings oldest first, then live readings that continue the register', async () => {
    const startedAt = Date.now();
    meter = await startDevice(
      { id: 'meter-bf', type: 'meter', options: { medium: 'power', profile: 'office', peak: 50, initialTotal: 1000, backfillDays: 3, backfillStepS: 900, intervalS: 60 } },
      { url: broker.url, speed: 600, logger: silent },
    );
    // The history goes out a few simulated seconds after the connection, in chunks the connection takes.
    for (let i = 0; meter.state().backfill !== 'done'; i++) {
      if (i > 300) throw new Error(`backfill not done: ${JSON.stringify(meter.state())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const n = meter.state().backfilled as number;
    // Three days of quarter hours, give or take the one the start falls in.
    expect(n).toBeGreaterThanOrEqual(3 * 96 - 1);
    expect(n).toBeLessThanOrEqual(3 * 96);
    const history = (await rec.waitForCount((m) => m.topic === 'meter/meter-bf/reading', n + 2, 'history and two live readings')).map((m) => m.json as { total: number; instant: number; ts: number });
    const past = history.slice(0, n);
    // Every backfilled reading is in the past, on a quarter hour, 15 minutes after the one before.
    for (let i = 0; i < past.length; i++) {
      expect(past[i]!.ts * 1000).toBeLessThan(startedAt + 1000);
      expect(past[i]!.ts % 900).toBe(0);
      if (i > 0) {
        expect(past[i]!.ts - past[i - 1]!.ts).toBe(900);
        expect(past[i]!.total).toBeGreaterThanOrEqual(past[i - 1]!.total);
      }
    }
    expect(startedAt / 1000 - past[0]!.ts).toBeGreaterThan(3 * 86_400 - 2 * 900);
    // Three office days at a 50 kW peak: well above the base load alone (0.18 x 50 kW x 72 h = 648 kWh).
    const last = history[n - 1]!;
    expect(last.total - 1000).toBeGreaterThan(648);
    // Live readings carry the present time and continue the same register.
    const live = history.slice(n);
    for (const r of live) {
      expect(r.ts * 1000).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(r.total).toBeGreaterThanOrEqual(last.total);
    }
  }, 40_000);
});
