import { DuckDBConnection, DuckDBInstance, DuckDBTimestampValue, type DuckDBAppender } from '@duckdb/node-api';
import { copyDuckDb, openDuckDb } from '../store/duckdb.ts';
import type { Bucket } from './consumption.ts';
import type { Step } from './time.ts';

/**
 * 15-minute consumption per physical meter, kept in DuckDB (`energy.duckdb`), from which every coarser
 * rollup (hour, local day, local month) is a GROUP BY over any period. Rows are additive: a quarter
 * hour filled in by two rollup runs is two rows whose amounts add up. A backfill (readings that
 * arrived behind the frontier) deletes a meter's quarter hours from the affected bucket on and
 * appends them recomputed, then recomputes the node sums from there. `flags` lists what the amount went through
 * (rollover, replacement, gap).
 */
export class EnergyRollupStore {
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly appender: DuckDBAppender,
    private readonly nodeAppender: DuckDBAppender,
  ) {}

  static async open(file: string): Promise<EnergyRollupStore> {
    const instance = await openDuckDb(file);
    const writer = await DuckDBConnection.create(instance);
    await writer.run('CREATE TABLE IF NOT EXISTS consumption_15m (bucket TIMESTAMP NOT NULL, meter VARCHAR NOT NULL, amount DOUBLE NOT NULL, flags VARCHAR)');
    await writer.run('CREATE TABLE IF NOT EXISTS rollup_state (meter VARCHAR PRIMARY KEY, last_ts BIGINT NOT NULL, last_value DOUBLE NOT NULL)');
    // Per-node sums of the same quarter hours, so a building or the campus is one series, not a scan over its meters.
    await writer.run('CREATE TABLE IF NOT EXISTS node_15m (bucket TIMESTAMP NOT NULL, node VARCHAR NOT NULL, medium VARCHAR NOT NULL, amount DOUBLE NOT NULL, flags VARCHAR)');
    await writer.run('CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)');
    // Backfill: per meter, the earliest reading that arrived behind the rolled-up frontier since the last rollup
    // (import, late outbox batch); and a per-local-day fingerprint of its stored readings to notice late arrivals.
    await writer.run('CREATE TABLE IF NOT EXISTS rollup_dirty (meter VARCHAR PRIMARY KEY, from_ts BIGINT NOT NULL)');
    await writer.run('CREATE TABLE IF NOT EXISTS rollup_days (meter VARCHAR NOT NULL, day BIGINT NOT NULL, fingerprint DOUBLE NOT NULL, PRIMARY KEY (meter, day))');
    // Imported interval consumption (meter, start, end, amount): kept apart from the quarter hours, which are
    // recomputed from it and from the registers whenever the meter is dirty.
    await writer.run('CREATE TABLE IF NOT EXISTS imported_intervals (meter VARCHAR NOT NULL, start_ts BIGINT NOT NULL, end_ts BIGINT NOT NULL, amount DOUBLE NOT NULL, PRIMARY KEY (meter, start_ts))');
    const reader = await DuckDBConnection.create(instance);
    const appender = await writer.createAppender('consumption_15m');
    const nodeAppender = await writer.createAppender('node_15m');
    return new EnergyRollupStore(instance, writer, reader, appender, nodeAppender);
  }

  /** Appends quarter hours of many meters; flushes once (a bulk load calls this with large batches). */
  append(rows: Iterable<{ meter: string; bucket: Bucket }>): number {
    if (this.closed) throw new Error('energy store is closed');
    let n = 0;
    for (const { meter, bucket } of rows) {
      this.appender.appendTimestamp(new DuckDBTimestampValue(BigInt(bucket.start) * 1000n));
      this.appender.appendVarchar(meter);
      this.appender.appendDouble(bucket.amount);
      if (bucket.flags.length) this.appender.appendVarchar(bucket.flags.join(','));
      else this.appender.appendNull();
      this.appender.endRow();
      n += 1;
    }
    this.appender.flushSync();
    return n;
  }

  appendNodes(rows: Iterable<{ node: string; medium: string; bucket: Bucket }>): number {
    if (this.closed) throw new Error('energy store is closed');
    let n = 0;
    for (const { node, medium, bucket } of rows) {
      this.nodeAppender.appendTimestamp(new DuckDBTimestampValue(BigInt(bucket.start) * 1000n));
      this.nodeAppender.appendVarchar(node);
      this.nodeAppender.appendVarchar(medium);
      this.nodeAppender.appendDouble(bucket.amount);
      if (bucket.flags.length) this.nodeAppender.appendVarchar(bucket.flags.join(','));
      else this.nodeAppender.appendNull();
      this.nodeAppender.endRow();
      n += 1;
    }
    this.nodeAppender.flushSync();
    return n;
  }

  /**
   * Recomputes the node table from the meter table for a hierarchy (meter → node contributions); run
   * when the configured hierarchy differs from the one the node table was built for (`key`).
   */
  async rebuildNodes(contributions: ReadonlyArray<{ meter: string; node: string; medium: string }>, key: string, force = false): Promise<boolean> {
    const current = (await this.reader.runAndReadAll(`SELECT value FROM meta WHERE key = 'hierarchy'`)).getRows()[0]?.[0];
    if (current === key && !force) return false;
    await this.writer.run('BEGIN TRANSACTION');
    try {
      await this.writer.run('DELETE FROM node_15m');
      if (contributions.length) {
        const values = contributions.map((c) => `(${quoteId(c.meter)}, ${quoteId(c.node)}, ${quoteId(c.medium)})`).join(',');
        await this.writer.run(
          `INSERT INTO node_15m SELECT m.bucket, c.node, c.medium, sum(m.amount), string_agg(DISTINCT m.flags, ',')
           FROM consumption_15m m JOIN (VALUES ${values}) AS c(meter, node, medium) ON m.meter = c.meter
           GROUP BY m.bucket, c.node, c.medium`,
        );
      }
      await this.writer.run('INSERT OR REPLACE INTO meta VALUES ($k, $v)', { k: 'hierarchy', v: key });
      await this.writer.run('COMMIT');
    } catch (err) {
      await this.writer.run('ROLLBACK');
      throw err;
    }
    return true;
  }

  /** One node's consumption of one medium per bucket over [from, to). */
  async nodeSeries(node: string, medium: string, from: number, to: number, step: Step, utcOffsetHours: number): Promise<Array<{ start: number; amount: number; flags: string[] }>> {
    const r = await this.reader.runAndReadAll(
      `SELECT epoch_ms(${bucketExpr(step, utcOffsetHours)}) AS b, sum(amount), string_agg(DISTINCT flags, ',')
       FROM node_15m
       WHERE node = $node AND medium = $medium AND bucket >= make_timestamp($from::BIGINT) AND bucket < make_timestamp($to::BIGINT)
       GROUP BY b ORDER BY b`,
      { node, medium, from: BigInt(from) * 1000n, to: BigInt(to) * 1000n },
    );
    return r.getRows().map((row) => ({ start: Number(row[0]), amount: Number(row[1]), flags: row[2] === null ? [] : [...new Set(String(row[2]).split(','))] }));
  }

  async lastReading(meter: string): Promise<{ ts: number; value: number } | null> {
    const r = await this.reader.runAndReadAll('SELECT last_ts, last_value FROM rollup_state WHERE meter = $meter', { meter });
    const row = r.getRows()[0];
    return row ? { ts: Number(row[0]), value: Number(row[1]) } : null;
  }

  async setLastReading(meter: string, ts: number, value: number): Promise<void> {
    await this.writer.run('INSERT OR REPLACE INTO rollup_state VALUES ($meter, $ts, $value)', { meter, ts: BigInt(ts), value });
  }

  /** Marks a meter's rollup dirty from `ts` (keeps the earliest mark until the next rollup takes it). */
  async markDirty(meter: string, ts: number): Promise<void> {
    await this.writer.run(
      `INSERT INTO rollup_dirty VALUES ($meter, $ts) ON CONFLICT (meter) DO UPDATE SET from_ts = least(from_ts, excluded.from_ts)`,
      { meter, ts: BigInt(ts) },
    );
  }

  async dirty(): Promise<Map<string, number>> {
    const r = await this.reader.runAndReadAll('SELECT meter, from_ts FROM rollup_dirty');
    return new Map(r.getRows().map((row) => [String(row[0]), Number(row[1])]));
  }

  async clearDirty(meter: string, upTo: number): Promise<void> {
    // Only the mark that was taken: one set meanwhile to an earlier time stays.
    await this.writer.run('DELETE FROM rollup_dirty WHERE meter = $meter AND from_ts >= $ts', { meter, ts: BigInt(upTo) });
  }

  async dayFingerprints(meter: string): Promise<Map<number, number>> {
    const r = await this.reader.runAndReadAll('SELECT day, fingerprint FROM rollup_days WHERE meter = $meter', { meter });
    return new Map(r.getRows().map((row) => [Number(row[0]), Number(row[1])]));
  }

  async setDayFingerprints(meter: string, days: ReadonlyArray<[number, number]>): Promise<void> {
    if (days.length === 0) return;
    await this.writer.run('BEGIN TRANSACTION');
    try {
      for (const [day, fp] of days) await this.writer.run('INSERT OR REPLACE INTO rollup_days VALUES ($meter, $day, $fp)', { meter, day: BigInt(day), fp });
      await this.writer.run('COMMIT');
    } catch (err) {
      await this.writer.run('ROLLBACK');
      throw err;
    }
  }

  /** Imported intervals of a meter overlapping [from, to), oldest first. */
  async intervals(meter: string, from: number, to: number): Promise<Array<{ start: number; end: number; amount: number }>> {
    const r = await this.reader.runAndReadAll('SELECT start_ts, end_ts, amount FROM imported_intervals WHERE meter = $meter AND end_ts > $from AND start_ts < $to ORDER BY start_ts', {
      meter,
      from: BigInt(Math.max(0, Math.floor(from))),
      to: BigInt(Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(to))),
    });
    return r.getRows().map((row) => ({ start: Number(row[0]), end: Number(row[1]), amount: Number(row[2]) }));
  }

  /** Stores imported intervals in one transaction (the import checked they overlap nothing stored). */
  async addIntervals(rows: ReadonlyArray<{ meter: string; start: number; end: number; amount: number }>): Promise<void> {
    if (rows.length === 0) return;
    await this.writer.run('BEGIN TRANSACTION');
    try {
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        await this.writer.run(`INSERT INTO imported_intervals VALUES ${chunk.map((r) => `(${quoteId(r.meter)}, ${Math.round(r.start)}, ${Math.round(r.end)}, ${Number(r.amount)})`).join(',')}`);
      }
      await this.writer.run('COMMIT');
    } catch (err) {
      await this.writer.run('ROLLBACK');
      throw err;
    }
  }

  /** Meters that have imported intervals. */
  async intervalMeters(): Promise<Set<string>> {
    const r = await this.reader.runAndReadAll('SELECT DISTINCT meter FROM imported_intervals');
    return new Set(r.getRows().map((row) => String(row[0])));
  }

  /** Removes a meter's quarter hours from bucket `from` on (they are about to be recomputed). */
  async deleteMeterFrom(meter: string, from: number): Promise<void> {
    await this.writer.run('DELETE FROM consumption_15m WHERE meter = $meter AND bucket >= make_timestamp($from::BIGINT)', { meter, from: BigInt(from) * 1000n });
  }

  /** Recomputes the node sums from bucket `from` on, for the given contributions (nodes of recomputed meters). */
  async recomputeNodesFrom(contributions: ReadonlyArray<{ meter: string; node: string; medium: string }>, from: number): Promise<void> {
    if (contributions.length === 0) return;
    const keys = [...new Set(contributions.map((c) => `(${quoteId(c.node)}, ${quoteId(c.medium)})`))].join(',');
    const values = contributions.map((c) => `(${quoteId(c.meter)}, ${quoteId(c.node)}, ${quoteId(c.medium)})`).join(',');
    const at = { from: BigInt(from) * 1000n };
    await this.writer.run('BEGIN TRANSACTION');
    try {
      await this.writer.run(`DELETE FROM node_15m WHERE (node, medium) IN (${keys}) AND bucket >= make_timestamp($from::BIGINT)`, at);
      await this.writer.run(
        `INSERT INTO node_15m SELECT m.bucket, c.node, c.medium, sum(m.amount), string_agg(DISTINCT m.flags, ',')
         FROM consumption_15m m JOIN (VALUES ${values}) AS c(meter, node, medium) ON m.meter = c.meter
         WHERE m.bucket >= make_timestamp($from::BIGINT)
         GROUP BY m.bucket, c.node, c.medium`,
        at,
      );
      await this.writer.run('COMMIT');
    } catch (err) {
      await this.writer.run('ROLLBACK');
      throw err;
    }
  }

  /**
   * Consumption per meter and bucket over [from, to). Days and months are campus-local (the offset is
   * applied before truncating). Meter ids are checked against the config's id pattern before they get here.
   */
  async series(meters: readonly string[], from: number, to: number, step: Step, utcOffsetHours: number): Promise<Array<{ meter: string; start: number; amount: number; flags: string[] }>> {
    if (meters.length === 0) return [];
    const bucketSql = bucketExpr(step, utcOffsetHours);
    const list = meters.map(quoteId).join(',');
    const r = await this.reader.runAndReadAll(
      `SELECT meter, epoch_ms(${bucketSql}) AS b, sum(amount), string_agg(DISTINCT flags, ',')
       FROM consumption_15m
       WHERE meter IN (${list}) AND bucket >= make_timestamp($from::BIGINT) AND bucket < make_timestamp($to::BIGINT)
       GROUP BY meter, b ORDER BY meter, b`,
      { from: BigInt(from) * 1000n, to: BigInt(to) * 1000n },
    );
    return r.getRows().map((row) => ({
      meter: String(row[0]),
      start: Number(row[1]),
      amount: Number(row[2]),
      flags: row[3] === null ? [] : [...new Set(String(row[3]).split(','))],
    }));
  }

  /** The sum over many meters per bucket (a node or a tariff group), without one row per meter. */
  async total(meters: readonly string[], from: number, to: number, step: Step, utcOffsetHours: number): Promise<Array<[number, number]>> {
    if (meters.length === 0) return [];
    const r = await this.reader.runAndReadAll(
      `SELECT epoch_ms(${bucketExpr(step, utcOffsetHours)}) AS b, sum(amount)
       FROM consumption_15m
       WHERE meter IN (${meters.map(quoteId).join(',')}) AND bucket >= make_timestamp($from::BIGINT) AND bucket < make_timestamp($to::BIGINT)
       GROUP BY b ORDER BY b`,
      { from: BigInt(from) * 1000n, to: BigInt(to) * 1000n },
    );
    return r.getRows().map((row) => [Number(row[0]), Number(row[1])]);
  }

  /** For a checkpoint before measuring disk size. */
  async checkpoint(): Promise<void> {
    await this.writer.run('CHECKPOINT');
  }

  /** Retention (hub/src/lifecycle): quarter hours of meters and nodes before `before`; returns rows removed. */
  async pruneBefore(before: number): Promise<number> {
    if (this.closed) throw new Error('energy store is closed');
    this.appender.flushSync();
    this.nodeAppender.flushSync();
    const us = { us: BigInt(before) * 1000n };
    const a = await this.writer.run('DELETE FROM consumption_15m WHERE bucket < make_timestamp($us::BIGINT)', us);
    const b = await this.writer.run('DELETE FROM node_15m WHERE bucket < make_timestamp($us::BIGINT)', us);
    return Number(a.rowsChanged) + Number(b.rowsChanged);
  }

  /** A consistent copy into a new DuckDB file while the hub runs (`warden backup`, hub/src/lifecycle/backup.ts). */
  async backupTo(file: string): Promise<void> {
    if (this.closed) throw new Error('energy store is closed');
    this.appender.flushSync();
    this.nodeAppender.flushSync();
    await copyDuckDb(this.reader, file);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.appender.closeSync();
    this.nodeAppender.closeSync();
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }
}

const ID = /^[a-z0-9][a-z0-9_.-]{0,127}$/;
function quoteId(id: string): string {
  if (!ID.test(id)) throw new Error(`not a meter id: ${JSON.stringify(id)}`);
  return `'${id}'`;
}

function bucketExpr(step: Step, utcOffsetHours: number): string {
  const off = `INTERVAL ${Math.round(utcOffsetHours * 60)} MINUTE`;
  switch (step) {
    case '15m':
      return 'bucket';
    case '1h':
      return `date_trunc('hour', bucket + ${off}) - ${off}`;
    case '1d':
      return `date_trunc('day', bucket + ${off}) - ${off}`;
    case '1mo':
      return `date_trunc('month', bucket + ${off}) - ${off}`;
  }
}
