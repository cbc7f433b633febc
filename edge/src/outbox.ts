import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
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

/**
 * What a record is worth when the outbox is full. Safety records are never shed; when space runs out,
 * telemetry goes first (oldest first), then routine events (oldest first).
 */
export type RecordClass = 'telemetry' | 'routine' | 'safety';
/** Shed order: lowest first. Safety is never shed. */
const CLASS_RANK: Record<RecordClass, number> = { telemetry: 0, routine: 1, safety: 2 };
export const SHEDDABLE_CLASSES = ['telemetry', 'routine'] as const;
export type SheddableClass = (typeof SHEDDABLE_CLASSES)[number];

/** Alarms and safety events: fire, intrusion, emergency calls, forced doors and any tamper. */
export function isSafetyEvent(type: string): boolean {
  return (
    type.startsWith('fire.') ||
    type.startsWith('intrusion.') ||
    type.startsWith('emergency.') ||
    type === 'door.forced' ||
    type === 'tamper' ||
    type.endsWith('.tamper') ||
    type === 'linkage.failsafe'
  );
}

export function recordClass(r: Pick<NewRecord, 'kind'> & { type?: string }): RecordClass {
  if (r.kind === 'telemetry') return 'telemetry';
  return isSafetyEvent(r.type ?? '') ? 'safety' : 'routine';
}

/** The outbox could not take the records (disk full, I/O error) even after shedding. */
interface Shed {
  /** Records shed per class: older ones deleted plus incoming ones not stored (`dropped`). */
  telemetry: number;
  routine: number;
  /** Of those, incoming records not stored. */
  dropped?: number;
  /** JSON characters freed. */
  bytes: number;
}

export class OutboxFullError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly classes: ReadonlySet<RecordClass>,
  ) {
    super(`outbox could not store ${[...classes].join('+')} records: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'OutboxFullError';
  }
}

export interface OutboxOptions {
  /**
   * At most this many records are kept; beyond it the oldest telemetry, then the oldest routine events are
   * shed (counted). Safety records are never shed, so they may exceed the cap. 0 = no cap.
   */
  maxRecords?: number;
  /** Same as maxRecords for the records' JSON bytes. 0 = no cap. */
  maxBytes?: number;
  /**
   * Bytes of a reserve file kept beside the outbox (`<path>.reserve`, default 1 MiB, 0 = none). On a full disk it is
   * deleted so that shedding (which itself writes) can run, and made again once there is room.
   */
  reserveBytes?: number;
  /** Called with what was shed, per class, after each shedding. */
  onShed?: (counts: Readonly<Record<SheddableClass, number>>, why: 'cap' | 'disk_full') => void;
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
  private readonly insert: Database.Statement<[string, string, number, string]>;
  private readonly selectSafety: Database.Statement<[number, number], { seq: number; device: string }>;
  private readonly selectDevice: Database.Statement<[string, number, number], { seq: number; id: string; body: string }>;
  private readonly selectSeq: Database.Statement<[number], { seq: number; id: string; body: string }>;
  private readonly removeSeq: Database.Statement<[number], { size: number }>;
  private readonly select: Database.Statement<[number, number], { seq: number; id: string; body: string }>;
  private readonly remove: Database.Statement<[number]>;
  private readonly appendMany: (records: readonly NewRecord[], delivery: DeliveryKey | undefined) => { out: UplinkRecord[]; bytes: number; shed: Shed };
  private readonly findDelivery: Database.Statement<[string, number], { hash: string; connection: string }>;
  private readonly putDelivery: Database.Statement<[string, number, string, string, number]>;
  private readonly pruneDeliveries: Database.Statement<[number]>;
  private count: number;
  private bytes: number;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly shedTotals: Record<SheddableClass, number> = { telemetry: 0, routine: 0 };
  private readonly shedOldest: Database.Statement<[number, number], { seq: number; size: number }>;
  private readonly shedDelete: Database.Statement<[number, number]>;
  private readonly shedAdd: Database.Statement<[string, number]>;
  private readonly onShed: OutboxOptions['onShed'];
  private readonly reservePath: string;
  private readonly reserveBytes: number;
  private readonly sumBytes: Database.Statement<[number], { b: number }>;
  private readonly sumBytesExcept: Database.Statement<[number, string], { b: number }>;
  private readonly removeExcept: Database.Statement<[number, string]>;

  private constructor(readonly path: string, opts: OutboxOptions) {
    this.maxRecords = opts.maxRecords ?? 0;
    this.maxBytes = opts.maxBytes ?? 0;
    this.onShed = opts.onShed;
    this.reservePath = `${path}.reserve`;
    this.reserveBytes = opts.reserveBytes ?? 1_048_576;
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      // After a checkpoint the WAL is cut back to this size, so a burst does not keep its disk space.
      this.db.pragma('journal_size_limit = 4194304');
      this.db.exec(`CREATE TABLE IF NOT EXISTS outbox (
        seq  INTEGER PRIMARY KEY AUTOINCREMENT,
        id   TEXT NOT NULL,
        body TEXT NOT NULL
      )`);
      // Shed class (0 telemetry, 1 routine, 2 safety); outboxes written before the cap existed count as routine.
      const cols = this.db.prepare('PRAGMA table_info(outbox)').all() as Array<{ name: string }>;
      if (!cols.some((c) => c.name === 'class')) this.db.exec('ALTER TABLE outbox ADD COLUMN class INTEGER NOT NULL DEFAULT 1');
      this.db.exec('CREATE INDEX IF NOT EXISTS outbox_class ON outbox(class, seq)');
      // Device of each record, for the priority lane (a safety record goes with its device's earlier records, found by
      // index in a large backlog). Outboxes written before the lane get the column filled from their records' JSON.
      if (!cols.some((c) => c.name === 'device')) {
        this.db.transaction(() => {
          this.db.exec('ALTER TABLE outbox ADD COLUMN device TEXT');
          this.db.exec("UPDATE outbox SET device = json_extract(body, '$.device')");
        })();
      }
      this.db.exec('CREATE INDEX IF NOT EXISTS outbox_device ON outbox(device, seq)');
      // Records shed so far, per class: kept across restarts so the hub sees a counter that only grows.
      this.db.exec('CREATE TABLE IF NOT EXISTS shed (class TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID');
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
      this.insert = this.db.prepare('INSERT INTO outbox (id, body, class, device) VALUES (?, ?, ?, ?)');
      this.selectSafety = this.db.prepare(`SELECT seq, device FROM outbox WHERE class = ${CLASS_RANK.safety} AND seq > ? ORDER BY seq LIMIT ?`);
      this.selectDevice = this.db.prepare('SELECT seq, id, body FROM outbox WHERE device = ? AND seq <= ? ORDER BY seq LIMIT ?');
      this.selectSeq = this.db.prepare('SELECT seq, id, body FROM outbox WHERE seq = ?');
      this.removeSeq = this.db.prepare('DELETE FROM outbox WHERE seq = ? RETURNING length(body) AS size');
      this.shedOldest = this.db.prepare('SELECT seq, length(body) AS size FROM outbox WHERE class = ? ORDER BY seq LIMIT ?');
      this.shedDelete = this.db.prepare('DELETE FROM outbox WHERE class = ? AND seq <= ?');
      this.shedAdd = this.db.prepare('INSERT INTO shed (class, n) VALUES (?, ?) ON CONFLICT(class) DO UPDATE SET n = n + excluded.n');
      for (const row of this.db.prepare('SELECT class, n FROM shed').all() as Array<{ class: string; n: number }>) {
        if (row.class === 'telemetry' || row.class === 'routine') this.shedTotals[row.class] = row.n;
      }
      this.select = this.db.prepare('SELECT seq, id, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?');
      this.remove = this.db.prepare('DELETE FROM outbox WHERE seq <= ?');
      this.sumBytes = this.db.prepare('SELECT coalesce(sum(length(body)), 0) AS b FROM outbox WHERE seq <= ?');
      const notKept = 'seq NOT IN (SELECT value FROM json_each(?))';
      this.sumBytesExcept = this.db.prepare(`SELECT coalesce(sum(length(body)), 0) AS b FROM outbox WHERE seq <= ? AND ${notKept}`);
      this.removeExcept = this.db.prepare(`DELETE FROM outbox WHERE seq <= ? AND ${notKept}`);
      const totals = this.db.prepare('SELECT count(*) AS n, coalesce(sum(length(body)), 0) AS b FROM outbox').get() as { n: number; b: number };
      this.count = totals.n;
      this.bytes = totals.b;
      // One transaction per call: a message's records (and any shedding they need) are committed together or not at all.
      this.appendMany = this.db.transaction((records: readonly NewRecord[], delivery: DeliveryKey | undefined) => {
        if (delivery) this.putDelivery.run(delivery.device, delivery.messageId, delivery.hash, delivery.connection, Date.now());
        let keep = records;
        let bodies = records.map((r) => JSON.stringify(r));
        let incomingBytes = bodies.reduce((n, b) => n + b.length, 0);
        const shed = this.makeRoom(records.length, incomingBytes, this.shedOf(records));
        if (this.overCap(shed, records.length, incomingBytes)) {
          // Nothing older of a lower class is left to shed: the message's own sheddable records give way
          // (counted); its safety records are stored beyond the cap.
          const idx = records.map((_, i) => i).filter((i) => recordClass(records[i] as NewRecord & { type?: string }) === 'safety');
          for (const [i, r] of records.entries()) {
            if (idx.includes(i)) continue;
            const cls = recordClass(r as NewRecord & { type?: string }) as SheddableClass;
            shed[cls] += 1;
            this.shedAdd.run(cls, 1);
          }
          keep = idx.map((i) => records[i]!);
          bodies = idx.map((i) => bodies[i]!);
          incomingBytes = bodies.reduce((n, b) => n + b.length, 0);
          shed.dropped = records.length - keep.length;
        }
        const out = keep.map((r, i) => {
          const id = newId();
          const seq = Number(this.insert.run(id, bodies[i]!, CLASS_RANK[recordClass(r as NewRecord & { type?: string })], r.device).lastInsertRowid);
          return { id, seq, ...r } as UplinkRecord;
        });
        return { out, bytes: incomingBytes, shed };
      });
      this.makeReserve();
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
    let result: ReturnType<typeof this.appendMany>;
    try {
      result = this.appendMany(records, delivery);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      // Disk (or file) full: give back the reserve so SQLite can write, free pages inside the file by shedding what
      // may be shed, then try once more. Free pages are reused by SQLite, so the retry needs no new disk space.
      rmSync(this.reservePath, { force: true });
      if (this.shedForSpace(records)) {
        try {
          result = this.appendMany(records, delivery);
        } catch (again) {
          throw isDiskFull(again) ? new OutboxFullError(again, classesOf(records)) : again;
        }
      } else {
        throw new OutboxFullError(err, classesOf(records));
      }
    }
    this.count += result.out.length;
    this.bytes += result.bytes;
    this.afterShed(result.shed, 'cap');
    if (this.reserveMissing && ++this.sinceReserveTry >= 100) this.makeReserve();
    return result.out;
  }

  /**
   * Classes an append may shed to make room for `records`: the classes strictly below the highest-ranked
   * incoming record (telemetry never sheds routine events; safety sheds both), and telemetry sheds older telemetry.
   */
  private shedOf(records: readonly NewRecord[]): number {
    let top = -1;
    for (const r of records) top = Math.max(top, CLASS_RANK[recordClass(r as NewRecord & { type?: string })]);
    return top;
  }

  /**
   * Inside the append transaction: deletes the oldest records of the lowest classes (up to rank `maxRank`,
   * never safety) until `n` more records and `b` more bytes fit under the caps. Frees a little more (1 % of
   * the cap) so that a full outbox sheds in steps, not on every message.
   */
  private makeRoom(n: number, b: number, maxRank: number, force?: { records: number; bytes: number }): Shed {
    const shed: Shed = { telemetry: 0, routine: 0, bytes: 0, dropped: 0 };
    let needRecords = force?.records ?? (this.maxRecords > 0 ? this.count + n - this.maxRecords : 0);
    let needBytes = force?.bytes ?? (this.maxBytes > 0 ? this.bytes + b - this.maxBytes : 0);
    if (needRecords <= 0 && needBytes <= 0) return shed;
    if (!force) {
      if (needRecords > 0) needRecords += Math.ceil(this.maxRecords / 100);
      if (needBytes > 0) needBytes += Math.ceil(this.maxBytes / 100);
    }
    for (const cls of SHEDDABLE_CLASSES) {
      const rank = CLASS_RANK[cls];
      if (rank > Math.min(maxRank, CLASS_RANK.routine)) break;
      while (needRecords > 0 || needBytes > 0) {
        const rows = this.shedOldest.all(rank, Math.max(needRecords, 256));
        if (rows.length === 0) break;
        let last = 0;
        let k = 0;
        let freed = 0;
        for (const r of rows) {
          last = r.seq;
          k++;
          freed += r.size;
          if (k >= needRecords && freed >= needBytes) break;
        }
        this.shedDelete.run(rank, last);
        shed.bytes += freed;
        needRecords -= k;
        needBytes -= freed;
        shed[cls] += k;
      }
      if (shed[cls] > 0) this.shedAdd.run(cls, shed[cls]);
    }
    return shed;
  }

  private reserveMissing = false;
  private sinceReserveTry = 0;

  /** (Re)creates the reserve file; on a disk still full it stays missing and is tried again later. */
  private makeReserve(): void {
    this.sinceReserveTry = 0;
    if (this.reserveBytes <= 0) return;
    try {
      if (statSync(this.reservePath, { throwIfNoEntry: false })?.size === this.reserveBytes) {
        this.reserveMissing = false;
        return;
      }
      const fd = openSync(this.reservePath, 'w');
      try {
        const chunk = Buffer.alloc(Math.min(this.reserveBytes, 65_536));
        for (let left = this.reserveBytes; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, left));
      } finally {
        closeSync(fd);
      }
      this.reserveMissing = false;
    } catch {
      rmSync(this.reservePath, { force: true });
      this.reserveMissing = true;
    }
  }

  /** After SQLITE_FULL: sheds a slice of what the records may displace so their pages can be reused. */
  private shedForSpace(records: readonly NewRecord[]): boolean {
    const bytes = records.reduce((n, r) => n + JSON.stringify(r).length, 0);
    // Enough pages for the records, their index entries and the transaction's own pages, with margin.
    const want = { records: Math.max(64, records.length * 4), bytes: Math.max(65_536, bytes * 8) };
    let shed: Shed;
    try {
      shed = this.db.transaction(() => this.makeRoom(0, 0, this.shedOf(records), want))();
      // Copy the WAL into the database and start it over: its file keeps its size, so later writes reuse that space.
      this.db.pragma('wal_checkpoint(RESTART)');
    } catch {
      this.reserveMissing = true;
      return false;
    }
    this.reserveMissing = true;
    this.afterShed(shed, 'disk_full');
    return shed.telemetry + shed.routine > 0;
  }

  /** True when, after `shed`, `n` more records (`b` bytes) would still exceed a cap. */
  private overCap(shed: Shed, n: number, b: number): boolean {
    const deleted = shed.telemetry + shed.routine - (shed.dropped ?? 0);
    if (this.maxRecords > 0 && this.count - deleted + n > this.maxRecords) return true;
    return this.maxBytes > 0 && this.bytes - shed.bytes + b > this.maxBytes;
  }

  /**
   * Counts records that could not be stored at all (disk full, nothing left to shed) as shed, so the loss is
   * visible at the hub. Persisted when the disk allows; kept in memory otherwise.
   */
  countShed(records: readonly NewRecord[]): void {
    const shed: Shed = { telemetry: 0, routine: 0, bytes: 0, dropped: 0 };
    for (const r of records) {
      const cls = recordClass(r as NewRecord & { type?: string });
      if (cls !== 'safety') (shed[cls] += 1), (shed.dropped! += 1);
    }
    try {
      this.db.transaction(() => {
        for (const cls of SHEDDABLE_CLASSES) if (shed[cls] > 0) this.shedAdd.run(cls, shed[cls]);
      })();
    } catch {
      // The disk is full; the in-memory count still reaches the hub.
    }
    this.afterShed(shed, 'disk_full');
  }

  private afterShed(shed: Shed, why: 'cap' | 'disk_full'): void {
    if (shed.telemetry + shed.routine === 0) return;
    this.count -= shed.telemetry + shed.routine - (shed.dropped ?? 0);
    this.bytes -= shed.bytes;
    this.shedTotals.telemetry += shed.telemetry;
    this.shedTotals.routine += shed.routine;
    this.onShed?.({ telemetry: shed.telemetry, routine: shed.routine }, why);
  }

  /** Records shed since the outbox file was created, per class (kept in the file across restarts). */
  shedCounts(): Readonly<Record<SheddableClass, number>> {
    return { ...this.shedTotals };
  }

  /** Bytes of record JSON waiting for the hub. */
  backlogBytes(): number {
    return this.bytes;
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
    return this.select.all(afterSeq, limit).map(toRecord);
  }

  /**
   * The priority lane's next batch: the oldest safety records with seq > `afterSeq` (not yet on the bulk stream), each
   * with every earlier record of its device still queued, oldest first, at most `limit` records. Cut to the limit, each
   * device's records are a prefix of its own queue, so sent in this order the hub stores every device's records in
   * order; what did not fit comes in the next batch.
   */
  peekPriority(afterSeq: number, limit: number): UplinkRecord[] {
    const safety = this.selectSafety.all(afterSeq, limit);
    if (safety.length === 0) return [];
    const upTo = new Map<string, number>();
    for (const s of safety) upTo.set(s.device, Math.max(upTo.get(s.device) ?? 0, s.seq));
    const rows = new Map<number, { seq: number; id: string; body: string }>();
    for (const [device, seq] of upTo) for (const row of this.selectDevice.all(device, seq, limit)) rows.set(row.seq, row);
    return [...rows.values()]
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit)
      .map(toRecord);
  }

  /** The records with these seqs that are still queued (a priority batch sent again), in seq order. */
  peekSeqs(seqs: readonly number[]): UplinkRecord[] {
    const out: UplinkRecord[] = [];
    for (const seq of [...seqs].sort((a, b) => a - b)) {
      const row = this.selectSeq.get(seq);
      if (row) out.push(toRecord(row));
    }
    return out;
  }

  /**
   * Deletes every record with seq <= `seq` (the hub has stored them), except the seqs in `except` (sent only in a
   * priority batch whose own ack has not come: a cumulative ack does not cover them). Returns how many went.
   */
  ackUpTo(seq: number, except: Iterable<number> = []): number {
    const keep = [...except].filter((s) => s <= seq);
    // The rows' size is read just before they go (the same pages the delete reads).
    let n: number;
    if (keep.length === 0) {
      this.bytes -= this.sumBytes.get(seq)!.b;
      n = this.remove.run(seq).changes;
    } else {
      const list = JSON.stringify(keep);
      this.bytes -= this.sumBytesExcept.get(seq, list)!.b;
      n = this.removeExcept.run(seq, list).changes;
    }
    this.count -= n;
    if (this.reserveMissing && n > 0) this.makeReserve();
    return n;
  }

  /** Deletes exactly these records (a priority batch the hub acknowledged by its seqs). Returns how many went. */
  ackSeqs(seqs: readonly number[]): number {
    const n = this.db.transaction(() => {
      let gone = 0;
      for (const seq of seqs) {
        const row = this.removeSeq.get(seq);
        if (!row) continue;
        gone++;
        this.bytes -= row.size;
      }
      return gone;
    })();
    this.count -= n;
    if (this.reserveMissing && n > 0) this.makeReserve();
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

/** A stored row as the record the hub receives: its id and seq, then what was appended. */
function toRecord(row: { seq: number; id: string; body: string }): UplinkRecord {
  return { id: row.id, seq: row.seq, ...(JSON.parse(row.body) as NewRecord) } as UplinkRecord;
}

function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR';
}

function classesOf(records: readonly NewRecord[]): Set<RecordClass> {
  return new Set(records.map((r) => recordClass(r as NewRecord & { type?: string })));
}
