import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHubConfig } from '../src/config.ts';
import { DuckDbTelemetryStore } from '../src/store/duckdb-telemetry.ts';
import { encodeRows, escapeKey, escapeMeasurement, quoteFieldString } from '../src/store/influx-http.ts';
import { InfluxDbTelemetryStore } from '../src/store/influx-telemetry.ts';
import { TELEMETRY_AGGS, type TelemetryQuery, type TelemetryRow, type TelemetryStore } from '../src/store/telemetry.ts';
import { VictoriaMetricsTelemetryStore } from '../src/store/victoria-telemetry.ts';
import { freePort, haveInfluxd, haveVictoria, startInfluxd, startVictoria, type TsdbServer } from './tsdb-servers.ts';

/*
 * One conformance suite for the three telemetry stores: the same rows appended to the embedded DuckDB store and to
 * real InfluxDB 1.6 and VictoriaMetrics servers (started here on 127.0.0.1), then every aggregate at several steps
 * and ranges must give the same [bucketStart, value] pairs. Names need line-protocol escaping (spaces, commas, `=`,
 * quotes, a backslash, CJK).
 */

const T0 = Date.UTC(2026, 0, 1); // a fixed instant of the data, never compared with the wall clock
const MIN = 60_000;
const HOUR = 60 * MIN;
const DEVICES = ['meter-1', 'dev with space', 'a,b=c', 'quote"d\'s', '電表 一號', 'back\\slash'];
const METRICS = ['power_kw', 'metric with space,=', '電力'];

/** Deterministic irregular series: unique timestamps per series, some exactly on bucket boundaries. */
function dataset(): TelemetryRow[] {
  const rows: TelemetryRow[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  DEVICES.forEach((device, d) => {
    METRICS.forEach((metric, m) => {
      let ts = T0 - 20 * MIN + (d * 3 + m) * 1000;
      for (let i = 0; i < 150; i++) {
        // Every 10th reading lands on a whole hour or quarter hour; the rest 7 s .. 3 min apart.
        ts = i % 10 === 0 ? Math.ceil((ts + 1) / (15 * MIN)) * 15 * MIN : ts + 7_000 + Math.floor(rnd() * 173_000);
        const value = Math.round((rnd() * 2000 - 500) * 1000) / 1000;
        rows.push({ ts, device, metric, value });
      }
    });
  });
  return rows;
}

const ROWS = dataset();
const LAST_TS = Math.max(...ROWS.map((r) => r.ts));

function expectSame(actual: Array<[number, number]>, expected: Array<[number, number]>, what: string): void {
  expect(actual.map((p) => p[0]), `${what}: bucket starts`).toEqual(expected.map((p) => p[0]));
  actual.forEach(([, v], i) => {
    const e = expected[i]![1];
    expect(Math.abs(v - e), `${what}: bucket ${i} value ${v} vs ${e}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(e)));
  });
}

describe('line protocol escaping', () => {
  it('escapes measurement, tag keys/values, field keys and string values per the spec', () => {
    expect(escapeMeasurement('cpu load,x=1')).toBe('cpu\\ load\\,x=1');
    expect(escapeKey('a b,c=d')).toBe('a\\ b\\,c\\=d');
    expect(quoteFieldString('say "hi" \\o/')).toBe('"say \\"hi\\" \\\\o/"');
    expect(encodeRows('telemetry', [{ ts: 1, device: 'd 1,x=y', metric: '電力', value: 2 }])).toBe('telemetry,device=d\\ 1\\,x\\=y,metric=電力 value=2.0 1');
    expect(encodeRows('t', [{ ts: 5, device: 'd', metric: 'm', value: 1e21 }, { ts: 6, device: 'd', metric: 'm', value: -0.25 }])).toBe('t,device=d,metric=m value=1e+21 5\nt,device=d,metric=m value=-0.25 6');
  });
  it('refuses rows the line protocol cannot carry, naming the row (nothing is written)', () => {
    expect(() => encodeRows('t', [{ ts: 1, device: 'ok', metric: 'm', value: 1 }, { ts: 2, device: 'two\nlines', metric: 'm', value: 1 }])).toThrow(/row 1: device "two\\nlines" contains a line break/);
    expect(() => encodeRows('t', [{ ts: 1, device: 'd', metric: 'm', value: Number.NaN }])).toThrow(/not a finite number/);
    expect(() => encodeRows('t', [{ ts: 1, device: 'd\\', metric: 'm', value: 1 }])).toThrow(/ends with a backslash/);
  });
});

describe('telemetry config', () => {
  it('refuses a server backend without credentials unless auth: none on loopback', () => {
    expect(() => parseHubConfig({ telemetry: { backend: 'influxdb', url: 'http://127.0.0.1:8086' } })).toThrow(/needs credentials: give telemetry.username and telemetry.password/);
    expect(() => parseHubConfig({ telemetry: { backend: 'victoriametrics', url: 'http://10.1.1.1:8428', auth: 'none', allowInsecure: true } })).toThrow(/auth: none is allowed only for a loopback server/);
    expect(() => parseHubConfig({ telemetry: { backend: 'influxdb', url: 'http://10.1.1.1:8086', username: 'u', password: 'p' } })).toThrow(/plain http to 10.1.1.1/);
    expect(() => parseHubConfig({ telemetry: { backend: 'influxdb' } })).toThrow(/telemetry\/url: telemetry.backend influxdb needs/);
    expect(parseHubConfig({ telemetry: { backend: 'victoriametrics', url: 'http://127.0.0.1:8428', auth: 'none' } }).telemetry.backend).toBe('victoriametrics');
    expect(parseHubConfig({}).telemetry.backend).toBe('duckdb');
  });
});

describe('telemetry store conformance: DuckDB, InfluxDB, VictoriaMetrics', () => {
  let dir: string;
  let duck: DuckDbTelemetryStore;
  let influxd: TsdbServer | undefined;
  let victoria: TsdbServer | undefined;
  const stores: Array<{ name: string; store: TelemetryStore }> = [];
  const registry = new Registry();

  beforeAll(async () => {
    if (!haveInfluxd) console.warn('SKIPPING the InfluxDB half: /usr/bin/influxd is not installed (Debian package influxdb)');
    if (!haveVictoria) console.warn('SKIPPING the VictoriaMetrics half: /usr/bin/victoria-metrics is not installed (Debian package victoria-metrics)');
    dir = await mkdtemp(join(tmpdir(), 'warden-tsdb-conf-'));
    [influxd, victoria] = await Promise.all([haveInfluxd ? startInfluxd() : undefined, haveVictoria ? startVictoria() : undefined]);
    duck = await DuckDbTelemetryStore.open(join(dir, 't.duckdb'));
    stores.push({ name: 'duckdb', store: duck });
    if (influxd) stores.push({ name: 'influxdb', store: await InfluxDbTelemetryStore.open({ url: influxd.url, database: 'warden_test', username: influxd.username, password: influxd.password, registry }) });
    if (victoria) stores.push({ name: 'victoriametrics', store: await VictoriaMetricsTelemetryStore.open({ url: victoria.url, username: victoria.username, password: victoria.password, flushEachAppend: true, registry }) });
    // Several appends of mixed series, as ingest sends them.
    for (const { store } of stores) for (let i = 0; i < ROWS.length; i += 700) await store.append(ROWS.slice(i, i + 700));
  }, 60_000);

  afterAll(async () => {
    for (const { store } of stores) await store.close();
    await Promise.all([influxd?.stop(), victoria?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the DuckDB store\'s buckets for every aggregate, step and range, every device and metric', async () => {
    const ranges: Array<[string, number, number]> = [
      ['whole', T0 - HOUR, LAST_TS + 1],
      ['unaligned from/to', T0 + 90_001, T0 + 2 * HOUR + 7 * MIN + 13_000],
      ['to exactly on a row (exclusive)', T0, ROWS.find((r) => r.ts > T0 + HOUR)!.ts],
      ['from exactly on a row (inclusive)', ROWS.find((r) => r.ts > T0 + HOUR)!.ts, T0 + 3 * HOUR],
      ['empty', T0 + 100 * HOUR, T0 + 101 * HOUR],
    ];
    const steps = [MIN, 7 * MIN, 15 * MIN, HOUR, 86_400_000];
    // Every series over the whole range at two steps; two of them (CJK, quotes) over every range and step.
    const cases: TelemetryQuery[] = [];
    for (const device of DEVICES) for (const metric of METRICS) for (const stepMs of [15 * MIN, HOUR]) for (const agg of TELEMETRY_AGGS) cases.push({ device, metric, from: ranges[0]![1], to: ranges[0]![2], stepMs, agg });
    for (const [device, metric] of [['電表 一號', '電力'], ['quote"d\'s', 'metric with space,=']] as const) {
      for (const [, from, to] of ranges) for (const stepMs of steps) for (const agg of TELEMETRY_AGGS) cases.push({ device, metric, from, to, stepMs, agg });
    }
    let compared = 0;
    let nonEmpty = 0;
    const check = async (q: TelemetryQuery) => {
      const base = await duck.query(q);
      if (base.length) nonEmpty++;
      for (const { name, store } of stores.slice(1)) {
        expectSame(await store.query(q), base, `${name} ${JSON.stringify(q)}`);
        compared++;
      }
    };
    for (let i = 0; i < cases.length; i += 8) await Promise.all(cases.slice(i, i + 8).map(check));
    expect(nonEmpty).toBeGreaterThan(cases.length * 0.75);
    // Sanity of the baseline itself on one series: buckets epoch-aligned, only non-empty, oldest first.
    const series = ROWS.filter((r) => r.device === '電表 一號' && r.metric === '電力' && r.ts >= T0 && r.ts < T0 + 3 * HOUR);
    const hourly = await duck.query({ device: '電表 一號', metric: '電力', from: T0, to: T0 + 3 * HOUR, stepMs: HOUR, agg: 'sum' });
    expect(hourly.map((p) => p[0])).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR]);
    expectSame(hourly, [0, 1, 2].map((h) => [T0 + h * HOUR, series.filter((r) => Math.floor((r.ts - T0) / HOUR) === h).reduce((a, r) => a + r.value, 0)] as [number, number]), 'hand sum');
    expect(compared).toBe(cases.length * (stores.length - 1));
  }, 60_000);

  it.runIf(haveInfluxd)('InfluxDB: wrong credentials refuse the open with a clear error', async () => {
    await expect(InfluxDbTelemetryStore.open({ url: influxd!.url, database: 'warden_test', username: 'warden', password: 'wrong' })).rejects.toThrow(/InfluxDB probe .*401.*refused user "warden": check telemetry.username and password/);
    await expect(InfluxDbTelemetryStore.open({ url: influxd!.url, database: 'warden_test' })).rejects.toThrow(/401.*requires credentials/);
  });

  it.runIf(haveVictoria)('VictoriaMetrics: wrong credentials refuse the open with a clear error', async () => {
    await expect(VictoriaMetricsTelemetryStore.open({ url: victoria!.url, username: 'warden', password: 'wrong' })).rejects.toThrow(/VictoriaMetrics probe .*401.*refused user "warden"/);
  });

  it('server down or silent: append rejects with a clear error, counted', async () => {
    const port = await freePort(); // nothing listens there
    const down = await InfluxDbTelemetryStore.open({ url: `http://127.0.0.1:${port}`, database: 'x', username: 'u', password: 'p', registry });
    await expect(down.append(ROWS.slice(0, 5))).rejects.toThrow(/InfluxDB write \(POST http:\/\/127\.0\.0\.1:\d+\/write\): server unreachable \(ECONNREFUSED\)/);
    const vdown = await VictoriaMetricsTelemetryStore.open({ url: `http://127.0.0.1:${port}`, username: 'u', password: 'p', registry });
    await expect(vdown.append(ROWS.slice(0, 5))).rejects.toThrow(/VictoriaMetrics write .*server unreachable/);
    // A server that takes the connection and never answers: the timeout.
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const slow = await InfluxDbTelemetryStore.open({ url: silentUrl, database: 'x', username: 'u', password: 'p', timeoutMs: 300, registry });
    await expect(slow.append(ROWS.slice(0, 5))).rejects.toThrow(/no answer within 300 ms \(telemetry.timeoutMs\)/);
    for (const s of sockets) s.destroy();
    silent.close();
    const text = await registry.metrics();
    expect(text).toMatch(/warden_hub_telemetry_requests_total\{backend="influxdb",op="write",result="unreachable"\} 1/);
    expect(text).toMatch(/warden_hub_telemetry_requests_total\{backend="influxdb",op="write",result="timeout"\} 1/);
    expect(text).toMatch(/warden_hub_telemetry_requests_total\{backend="victoriametrics",op="write",result="unreachable"\} 1/);
  }, 30_000);

  it.runIf(haveInfluxd)('InfluxDB: the server stopped mid-way rejects appends; after its restart they go through', async () => {
    const s = stores.find((x) => x.name === 'influxdb')!.store;
    await influxd!.halt();
    const late: TelemetryRow[] = [{ ts: T0 + 200 * HOUR, device: 'meter-1', metric: 'power_kw', value: 42 }];
    await expect(s.append(late)).rejects.toThrow(/InfluxDB write .*unreachable/);
    await influxd!.restart();
    await s.append(late);
    expect(await s.query({ device: 'meter-1', metric: 'power_kw', from: T0 + 200 * HOUR, to: T0 + 201 * HOUR, stepMs: HOUR, agg: 'last' })).toEqual([[T0 + 200 * HOUR, 42]]);
  }, 40_000);

  it('gzip write bodies (telemetry.gzip) arrive intact on both servers', async () => {
    const row: TelemetryRow = { ts: T0 + 300 * HOUR, device: 'gz 電表,=', metric: 'power_kw', value: 12.5 };
    const q: TelemetryQuery = { device: row.device, metric: row.metric, from: row.ts, to: row.ts + 1, stepMs: MIN, agg: 'last' };
    if (influxd) {
      const s = await InfluxDbTelemetryStore.open({ url: influxd.url, database: 'warden_gz', username: influxd.username, password: influxd.password, gzip: true });
      await s.append([row]);
      expect(await s.query(q)).toEqual([[row.ts, 12.5]]);
    }
    if (victoria) {
      const s = await VictoriaMetricsTelemetryStore.open({ url: victoria.url, username: victoria.username, password: victoria.password, gzip: true, flushEachAppend: true });
      await s.append([row]);
      expect(await s.query(q)).toEqual([[row.ts, 12.5]]);
    }
  });

  it('prune: InfluxDB deletes and counts like DuckDB; VictoriaMetrics deletes nothing and says 0', async () => {
    const cut = T0 + HOUR + 30_000;
    const q: TelemetryQuery = { device: 'a,b=c', metric: '電力', from: 0, to: T0 + 1000 * HOUR, stepMs: 15 * MIN, agg: 'avg' };
    const before = await duck.query(q);
    const n = await duck.prune(cut);
    expect(n).toBe(ROWS.filter((r) => r.ts < cut).length);
    const after = await duck.query(q);
    expect(after.length).toBeLessThan(before.length);
    for (const { name, store } of stores.slice(1)) {
      if (name === 'influxdb') {
        expect(await store.prune!(cut)).toBe(n);
        expectSame(await store.query(q), after, 'influxdb after prune');
        expect(await store.prune!(cut)).toBe(0);
      } else {
        expect(await store.prune!(cut)).toBe(0);
        expectSame(await store.query(q), before, 'victoriametrics after its no-op prune');
      }
    }
  }, 30_000);
});
