import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ingestor, type IngestBounds } from '../src/ingest/ingestor.ts';
import { HubBus } from '../src/live/bus.ts';
import { createMetrics } from '../src/metrics.ts';
import { DeviceRepo } from '../src/store/devices.ts';
import { DuckDbTelemetryStore } from '../src/store/duckdb-telemetry.ts';
import { DeadLetterRepo, EventRepo, TelemetryIdRepo } from '../src/store/events.ts';
import { GatewayRepo } from '../src/store/gateways.ts';
import { openStateDb, type StateDb } from '../src/store/state-db.ts';
import { FakeGatewayBatches } from './helpers.ts';

/**
 * The ingest bounds (issue 13, overload) on the Ingestor itself with its real stores (SQLite, DuckDB): a storage turn
 * handles at most maxRecordsPerTurn records; a noisy gateway at its backlog bound is held back alone; a priority batch
 * is stored while a gateway's bulk backlog is at its bound; a priority task goes between two turns of a bulk batch and
 * each device's events stay in order. Behaviour, not timing: what is held is read from `room()`, what was stored from
 * the database and the hub bus.
 */
describe('ingest bounds', () => {
  let dir: string;
  let db: StateDb;
  let telemetry: DuckDbTelemetryStore;
  let bus: HubBus;
  let acks: Array<{ gw: string; ack: unknown }>;
  let commits: number[];

  const DOORS = ['d-0', 'd-1', 'd-2', 'd-3', 'x'];
  const make = (bounds: Partial<IngestBounds>) => {
    const metrics = createMetrics();
    const devices = new DeviceRepo(db, metrics.registry);
    const gateways = new GatewayRepo(db);
    for (const gw of ['gw-noisy', 'gw-quiet']) {
      gateways.create(gw, null, 'unused-hash');
      for (const d of DOORS) devices.register({ id: `${gw}-${d}`, gateway: gw, kind: 'door' }, Date.now());
    }
    return new Ingestor({
      db,
      gateways,
      devices,
      events: new EventRepo(db),
      telemetryIds: new TelemetryIdRepo(db),
      deadLetters: new DeadLetterRepo(db, 1000),
      telemetry,
      metrics,
      log: pino({ level: 'silent' }),
      bus,
      autoRegister: false,
      publish: async (topic, payload) => void acks.push({ gw: topic.split('/')[3]!, ack: JSON.parse(payload) }),
      bounds,
    });
  };
  const stored = () => db.prepare('SELECT id, device, type FROM events ORDER BY n').all() as Array<{ id: string; device: string; type: string }>;
  /** Whether room(gw) is still pending after the loop has turned. */
  const held = async (ingestor: Ingestor, gw: string) => {
    let free = false;
    void ingestor.room(gw).then(() => (free = true));
    await new Promise((r) => setImmediate(r));
    return !free;
  };
  const routine = (g: FakeGatewayBatches, n: number) => Array.from({ length: n }, (_, i) => g.event(`${g.gw}-d-${i % 4}`, i % 2 ? 'door.closed' : 'door.opened', { door: 1 }));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-ingest-bounds-'));
    db = openStateDb(join(dir, 'state.db'));
    telemetry = await DuckDbTelemetryStore.open(join(dir, 'telemetry.duckdb'));
    bus = new HubBus();
    acks = [];
    commits = [];
    bus.on('stored', (events) => commits.push(events.length));
  });
  afterEach(async () => {
    await telemetry.close();
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a bulk batch in turns of at most maxRecordsPerTurn records, acknowledged once after the last', async () => {
    const ingestor = make({ maxRecordsPerTurn: 50 });
    const g = new FakeGatewayBatches('gw-noisy');
    const records = [...routine(g, 180), ...Array.from({ length: 30 }, () => g.telemetry('gw-noisy-d-0', { temp_c: 20 }))];
    const seen: number[] = [];
    bus.on('stored', () => seen.push(acks.length));
    await ingestor.handle('gw-noisy', 'up', Buffer.from(g.batch(records)));
    await ingestor.idle();
    // 30 telemetry + 20 events, then 50, 50, 50, 10 events: five commits, none over 50 records.
    expect(commits).toEqual([20, 50, 50, 50, 10]);
    expect(seen.every((n) => n === 0)).toBe(true);
    expect(acks).toEqual([{ gw: 'gw-noisy', ack: { v: 1, upTo: g.seq } }]);
    expect(stored()).toHaveLength(180);
    // The commits ran without their own fsync; the WAL was fsynced (off the loop) before the ack, and the connection is
    // back at FULL for every other writer.
    expect(ingestor.wal.syncs).toBeGreaterThan(0);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('holds back a noisy gateway at its own bound, never a quiet one', async () => {
    const ingestor = make({ maxGatewayBacklogBytes: 40_000, maxBacklogBytes: 60_000, reserveBytes: 5_000 });
    const noisy = new FakeGatewayBatches('gw-noisy');
    const quiet = new FakeGatewayBatches('gw-quiet');
    // Four batches of ~15 kB taken at once (as from one read of the connection): over the gateway's 40 kB.
    const done = [0, 1, 2, 3].map(() => ingestor.handle('gw-noisy', 'up', Buffer.from(noisy.batch(routine(noisy, 100)))));
    expect(await held(ingestor, 'gw-noisy')).toBe(true);
    expect(await held(ingestor, 'gw-quiet')).toBe(false);
    // The quiet gateway's batch is taken and stored too, while the noisy one waits.
    done.push(ingestor.handle('gw-quiet', 'up', Buffer.from(quiet.batch(routine(quiet, 3)))));
    await Promise.all(done);
    await ingestor.idle();
    expect(await held(ingestor, 'gw-noisy')).toBe(false);
    expect(stored().filter((r) => r.device.startsWith('gw-quiet'))).toHaveLength(3);
    expect(stored()).toHaveLength(403);
  });

  it('the hub-wide bound holds a gateway over its reserve but not a quiet one under it', async () => {
    const ingestor = make({ maxGatewayBacklogBytes: 1_000_000, maxBacklogBytes: 30_000, reserveBytes: 5_000 });
    const noisy = new FakeGatewayBatches('gw-noisy');
    const quiet = new FakeGatewayBatches('gw-quiet');
    const done = [0, 1, 2].map(() => ingestor.handle('gw-noisy', 'up', Buffer.from(noisy.batch(routine(noisy, 100)))));
    done.push(ingestor.handle('gw-quiet', 'up', Buffer.from(quiet.batch(routine(quiet, 2)))));
    expect(await held(ingestor, 'gw-noisy')).toBe(true);
    expect(await held(ingestor, 'gw-quiet')).toBe(false);
    await Promise.all(done);
    expect(await held(ingestor, 'gw-noisy')).toBe(false);
  });

  it('stores a priority batch while the gateway bulk backlog is at its bound, ahead of it, acked by its seqs', async () => {
    const ingestor = make({ maxGatewayBacklogBytes: 20_000, maxRecordsPerTurn: 100 });
    const g = new FakeGatewayBatches('gw-noisy');
    const bulk = [0, 1, 2].map(() => ingestor.handle('gw-noisy', 'up', Buffer.from(g.batch(routine(g, 100)))));
    expect(await held(ingestor, 'gw-noisy')).toBe(true);
    const forced = g.event('gw-noisy-x', 'door.forced', { door: 1 });
    const lane = ingestor.handle('gw-noisy', 'up', Buffer.from(JSON.stringify({ v: 1, gw: 'gw-noisy', lane: 'priority', records: [forced] })));
    await lane;
    expect(stored().map((r) => r.id)).toContain(forced.id);
    expect(acks.filter((a) => (a.ack as { lane?: string }).lane)).toEqual([{ gw: 'gw-noisy', ack: { v: 1, lane: 'priority', seqs: [forced.seq] } }]);
    await Promise.all(bulk);
    const rows = stored();
    expect(rows).toHaveLength(301);
    // Ahead of the bulk backlog's last batch, which was waiting when the priority batch came.
    expect(rows.findIndex((r) => r.id === forced.id)).toBeLessThan(200);
  });

  it('a priority task goes between two turns of a bulk batch, and lifts that device\'s later events so its order holds', async () => {
    const ingestor = make({ maxRecordsPerTurn: 50 });
    const g = new FakeGatewayBatches('gw-noisy');
    // Device x: one event in the first turn, one in the last, then a forced door in a later priority batch.
    const ordered = Array.from({ length: 200 }, (_, i) =>
      i === 10 ? g.event('gw-noisy-x', 'door.opened', { door: 1 }) : i === 180 ? g.event('gw-noisy-x', 'door.closed', { door: 1 }) : g.event(`gw-noisy-d-${i % 4}`, 'door.opened', { door: 1 }),
    );
    const forced = g.event('gw-noisy-x', 'door.forced', { door: 1 });
    let lane: Promise<void> | undefined;
    bus.once('stored', () => {
      // After the first turn's commit: the priority batch arrives while the bulk batch is being stored.
      setImmediate(() => (lane = ingestor.handle('gw-noisy', 'up', Buffer.from(JSON.stringify({ v: 1, gw: 'gw-noisy', lane: 'priority', records: [forced] })))));
    });
    const bulk = ingestor.handle('gw-noisy', 'up', Buffer.from(g.batch(ordered)));
    await bulk;
    await lane;
    await ingestor.idle();
    const rows = stored();
    expect(rows).toHaveLength(201);
    const pos = new Map(rows.map((r, i) => [r.id, i]));
    // The forced door was stored before the bulk batch's last events: between two of its turns.
    expect(pos.get(forced.id)!).toBeLessThan(pos.get(ordered[199]!.id)!);
    // x's events in the order the gateway sent them, the forced door last.
    expect(rows.filter((r) => r.device === 'gw-noisy-x').map((r) => r.type)).toEqual(['door.opened', 'door.closed', 'door.forced']);
    expect(commits.every((n) => n <= 50)).toBe(true);
  });
});
