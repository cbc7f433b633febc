import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { newId, type UplinkRecord } from '@warden/contract';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A record before the outbox gives it its id and sequence number. */
export type NewRecord = DistributiveOmit<UplinkRecord, 'id' | 'seq'>;

/** A device's QoS 1 publish, remembered with the records it produced (see `isRedelivery`). */
export interface DeliveryKey {
  device: string;
  messageId: number;
  /** Hash of topic + payload: a resend is byte-identical, a new message reusing the packet id is not. */
  hash: string;
  connection: string;
}

export interface OutboxOptions {
  /**
   * 'normal' (default): WAL with synchronous=NORMAL. A commit is complete once its frames are
   * written to the WAL file, i.e. in the OS page cache; only the fsync is deferred to checkpoints.
   * A killed process (SIGKILL, crash, OOM) loses nothing, because the kernel still holds and later
   * writes those pages; only a power cut or kernel crash can lose the last commits.
   * 'full': fsync on every commit, which survives power loss too, at the cost of one fsync per commit.
   */
  synchronous?: 'normal' | 'full';
}

/**
 * Durable FIFO of uplink records, committed before anything is acknowledged upstream or to the device.
 * `seq` is SQLite's AUTOINCREMENT rowid: it is never reused, even after every row is deleted, so the
 * gateway sequence number only ever grows across restarts.
 */
export class Outbox {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[string, string]>;
  private readonly select: Database.Statement<[number, number], { seq: number; id: string; body: string }>;
  private readonly remove: Database.Statement<[number]>;
  private readonly appendMany: (records: readonly NewRecord[], delivery: DeliveryKey | undefined) => UplinkRecord[];
  private readonly findDelivery: Database.Statement<[string, number], { hash: string; connection: string }>;
  private readonly putDelivery: Database.Statement<[string, number, string, string, number]>;
  private readonly pruneDeliveries: Database.Statement<[number]>;
  private count: number;

  private constructor(readonly path: string, opts: OutboxOptions) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.exec(`CREATE TABLE IF NOT EXISTS outbox (
        seq  INTEGER PRIMARY KEY AUTOINCREMENT,
        id   TEXT NOT NULL,
        body TEXT NOT NULL
      )`);
      // Last packet id per device seen with its payload hash and connection, committed in the same
      // transaction as the message's records: after a crash it says exactly which publishes were stored.
      this.db.exec(`CREATE TABLE IF NOT EXISTS deliveries (
        device     TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        hash       TEXT NOT NULL,
        connection TEXT NOT NULL,
        at         INTEGER NOT NULL,
        PRIMARY KEY (device, message_id)
      ) WITHOUT ROWID`);
      this.findDelivery = this.db.prepare('SELECT hash, connection FROM deliveries WHERE device = ? AND message_id = ?');
      this.putDelivery = this.db.prepare('INSERT OR REPLACE INTO deliveries (device, message_id, hash, connection, at) VALUES (?, ?, ?, ?, ?)');
      this.pruneDeliveries = this.db.prepare('DELETE FROM deliveries WHERE at < ?');
      this.insert = this.db.prepare('INSERT INTO outbox (id, body) VALUES (?, ?)');
      this.select = this.db.prepare('SELECT seq, id, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
      this.remove = this.db.prepare('DELETE FROM outbox WHERE seq <= ?');
      this.count = (this.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
      // One transaction per call: a message's records are committed together or not at all.
      this.appendMany = this.db.transaction((records: readonly NewRecord[], delivery: DeliveryKey | undefined) => {
        if (delivery) this.putDelivery.run(delivery.device, delivery.messageId, delivery.hash, delivery.connection, Date.now());
        return records.map((r) => {
          const id = newId();
          const seq = Number(this.insert.run(id, JSON.stringify(r)).lastInsertRowid);
          return { id, seq, ...r } as UplinkRecord;
        });
      });
      // A resend comes within seconds of the reconnect; a day of memory is ample and keeps the table small.
      this.pruneDeliveries.run(Date.now() - 86_400_000);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  static open(path: string, opts: OutboxOptions = {}): Outbox {
    return new Outbox(path, opts);
  }

  /** Commits the records (all or none) and returns them with their id and seq. */
  append(records: readonly NewRecord[], delivery?: DeliveryKey): UplinkRecord[] {
    if (records.length === 0 && !delivery) return [];
    const out = this.appendMany(records, delivery);
    this.count += out.length;
    return out;
  }

  /**
   * True when this publish was already stored from an earlier connection: the device did not get our
   * PUBACK (we were killed, or the link broke) and sent the same packet again. Within one connection a
   * packet id is only reused after its PUBACK, so a match there is a new message.
   */
  isRedelivery(d: DeliveryKey): boolean {
    const row = this.findDelivery.get(d.device, d.messageId);
    return row !== undefined && row.hash === d.hash && row.connection !== d.connection;
  }

  /** Up to `limit` records with seq > afterSeq, oldest first. */
  peek(afterSeq: number, limit: number): UplinkRecord[] {
    return this.select.all(afterSeq, limit).map((row) => ({ id: row.id, seq: row.seq, ...(JSON.parse(row.body) as NewRecord) }) as UplinkRecord);
  }

  /** Deletes every record with seq <= `seq` (the hub has stored them). Returns how many went. */
  ackUpTo(seq: number): number {
    const n = this.remove.run(seq).changes;
    this.count -= n;
    return n;
  }

  /** Records waiting for the hub. */
  backlog(): number {
    return this.count;
  }

  /** Highest seq ever assigned (0 for a new outbox), whether or not it is still queued. */
  lastSeq(): number {
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
