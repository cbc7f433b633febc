import { DuckDBConnection, DuckDBInstance, DuckDBTimestampValue, type DuckDBAppender } from '@duckdb/node-api';
import { copyDuckDb, openDuckDb } from './duckdb.ts';
import type { TelemetryAgg, TelemetryQuery, TelemetryRow, TelemetryStore } from './telemetry.ts';

const AGG_SQL: Record<TelemetryAgg, string> = {
  avg: 'avg(value)',
  min: 'min(value)',
  max: 'max(value)',
  sum: 'sum(value)',
  last: 'arg_max(value, ts)',
};

/** Telemetry in an embedded DuckDB file: columnar, so downsampling months of meter readings stays fast. */
export class DuckDbTelemetryStore implements TelemetryStore {
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    private readonly appender: DuckDBAppender,
  ) {}

  static async open(file: string): Promise<DuckDbTelemetryStore> {
    const instance = await openDuckDb(file);
    const writer = await DuckDBConnection.create(instance);
    await writer.run('CREATE TABLE IF NOT EXISTS telemetry (ts TIMESTAMP NOT NULL, device VARCHAR NOT NULL, metric VARCHAR NOT NULL, value DOUBLE NOT NULL)');
    const reader = await DuckDBConnection.create(instance);
    const appender = await writer.createAppender('telemetry');
    return new DuckDbTelemetryStore(instance, writer, reader, appender);
  }

  async append(rows: readonly TelemetryRow[]): Promise<void> {
    if (this.closed) throw new Error('telemetry store is closed');
    if (rows.length === 0) return;
    for (const r of rows) {
      this.appender.appendTimestamp(new DuckDBTimestampValue(BigInt(r.ts) * 1000n));
      this.appender.appendVarchar(r.device);
      this.appender.appendVarchar(r.metric);
      this.appender.appendDouble(r.value);
      this.appender.endRow();
    }
    // A flush commits the appended rows; only then may the hub acknowledge them.
    this.appender.flushSync();
  }

  async query(q: TelemetryQuery): Promise<Array<[number, number]>> {
    const sql = `
      SELECT (epoch_ms(ts) // $step::BIGINT) * $step::BIGINT AS bucket, ${AGG_SQL[q.agg]} AS v
      FROM telemetry
      WHERE device = $device AND metric = $metric AND ts >= make_timestamp($fromUs::BIGINT) AND ts < make_timestamp($toUs::BIGINT)
      GROUP BY bucket ORDER BY bucket`;
    const reader = await this.reader.runAndReadAll(sql, {
      step: BigInt(q.stepMs),
      device: q.device,
      metric: q.metric,
      fromUs: BigInt(q.from) * 1000n,
      toUs: BigInt(q.to) * 1000n,
    });
    return reader.getRows().map((row) => [Number(row[0]), Number(row[1])]);
  }

  async prune(before: number): Promise<number> {
    if (this.closed) throw new Error('telemetry store is closed');
    // On the writer, after the appender's last flush, so a delete never races an append of the same connection.
    this.appender.flushSync();
    const r = await this.writer.run('DELETE FROM telemetry WHERE ts < make_timestamp($us::BIGINT)', { us: BigInt(before) * 1000n });
    return Number(r.rowsChanged);
  }

  /** A consistent copy of the telemetry into a new DuckDB file while appends go on (warden backup). */
  async backupTo(file: string): Promise<void> {
    if (this.closed) throw new Error('telemetry store is closed');
    this.appender.flushSync();
    await copyDuckDb(this.reader, file);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.appender.closeSync();
    this.writer.closeSync();
    this.reader.closeSync();
    this.instance.closeSync();
  }
}
