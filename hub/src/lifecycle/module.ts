import { existsSync, unlinkSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import { newId } from '@warden/contract';
import type { AlarmsModule } from '../alarms/module.ts';
import type { HubContext, HubModule } from '../module.ts';
import { backupLive, type BackupManifest } from './backup.ts';
import { controlSocketPath, listenControl } from './control.ts';
import { daysAgo, pruneAlarms, pruneDeadLetters, pruneEvents, pruneSnapshots } from './prune.ts';

export const DATA_CLASSES = ['events', 'alarms', 'telemetry_raw', 'telemetry_rollups', 'dead_letters', 'audit', 'snapshots'] as const;
export type DataClass = (typeof DATA_CLASSES)[number];

/** The hub's pseudo-device for its own conditions; the disk rule (alarms/rules/disk-low.ts) listens for these. */
export const DISK_LOW_EVENT = 'hub.disk_low';
export const DISK_OK_EVENT = 'hub.disk_ok';

export interface DiskState {
  freeBytes: number;
  totalBytes: number;
  low: boolean;
}

export interface LifecycleOptions {
  alarms?: AlarmsModule;
  /** Prunes energy rollups older than the cut-off; offered by the energy module when it can. */
  pruneRollups?: (before: number) => Promise<number>;
  /** More embedded DuckDB files to copy on `warden backup` (energy.duckdb from the energy module), asked when a backup runs. */
  backupStores?: () => Array<{ name: string; backupTo(file: string): Promise<void> }>;
}

/**
 * Data lifecycle: the prune job (retention per data class, `retention` in hub.yaml, cut-offs from the hub clock),
 * its metrics, the free space of the data dir and a `hub.disk_low` alarm before the disk is full.
 */
export class LifecycleModule implements HubModule {
  readonly name = 'lifecycle';
  private ctx: HubContext | undefined;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<Record<DataClass, number>> | undefined;
  private pruned: Counter<'class'> | undefined;
  private failures: Counter<'class'> | undefined;
  private lastRun: Gauge | undefined;
  private free: Gauge | undefined;
  private total: Gauge | undefined;
  private diskLow = false;
  private control: Server | undefined;
  private backups: Counter<'result'> | undefined;

  constructor(private readonly opts: LifecycleOptions = {}) {}

  async start(ctx: HubContext): Promise<void> {
    this.ctx = ctx;
    const registers = [ctx.metrics.registry];
    this.pruned = new Counter({ name: 'warden_hub_retention_pruned_total', help: 'Rows (or snapshot files) removed by the retention job, by data class', labelNames: ['class'], registers });
    for (const c of DATA_CLASSES) this.pruned.inc({ class: c }, 0);
    this.failures = new Counter({ name: 'warden_hub_retention_failures_total', help: 'Retention runs in which pruning a data class failed (the other classes were pruned), by data class', labelNames: ['class'], registers });
    for (const c of DATA_CLASSES) this.failures.inc({ class: c }, 0);
    this.lastRun = new Gauge({ name: 'warden_hub_retention_last_run_timestamp_seconds', help: 'Hub-clock time the retention job last finished with every data class pruned', registers });
    this.free = new Gauge({ name: 'warden_hub_data_dir_free_bytes', help: 'Free bytes (for the hub user) on the file system of the data dir', registers });
    this.total = new Gauge({ name: 'warden_hub_data_dir_size_bytes', help: 'Size of the file system of the data dir', registers });
    const gateways = ctx.stores.gateways;
    // What gateways report in their status heartbeat (edge/src/outbox.ts): a counter kept by the gateway's outbox.
    new Counter({
      name: 'warden_edge_outbox_shed_total',
      help: "Records a gateway's full outbox shed (telemetry first, then routine events; safety events never), by gateway and class, as last reported",
      labelNames: ['gateway', 'class'],
      registers,
      collect() {
        this.reset();
        for (const g of gateways.list()) {
          if (!g.outboxShed) continue;
          this.inc({ gateway: g.id, class: 'telemetry' }, g.outboxShed.telemetry);
          this.inc({ gateway: g.id, class: 'routine' }, g.outboxShed.routine);
        }
      },
    });
    const r = ctx.config.retention;
    const runAndLog = () =>
      void this.runOnce().catch((err: unknown) => ctx.log.error({ err }, 'retention job failed'));
    const checkAndLog = () => void this.checkDisk().catch((err: unknown) => ctx.log.error({ err }, 'disk check failed'));
    this.timers.push(setInterval(runAndLog, r.intervalMinutes * 60_000).unref());
    this.timers.push(setInterval(checkAndLog, r.diskCheckSeconds * 1000).unref());
    this.backups = new Counter({ name: 'warden_hub_backups_total', help: 'Backups taken by the running hub (warden backup), by result', labelNames: ['result'], registers });
    for (const result of ['ok', 'failed']) this.backups.inc({ result }, 0);
    this.control = await listenControl(ctx.config.dataDir, async (req) => ({ ok: true as const, manifest: await this.backup(req.dir) }));
    if (!this.control) ctx.log.warn({ dataDir: ctx.config.dataDir }, 'data dir path too long for the control socket: warden backup needs the hub stopped');
    await this.checkDisk();
    runAndLog();
  }

  /**
   * A consistent copy of the hub's stores into a new folder while the hub runs (README, "Backup and restore"):
   * state.db by SQLite's online backup, telemetry.duckdb and energy.duckdb by COPY FROM DATABASE, the other
   * data-dir files as they are. Audited; counted in warden_hub_backups_total.
   */
  async backup(dir: string): Promise<BackupManifest> {
    const ctx = this.ctx;
    if (!ctx) throw new Error('lifecycle module is not started');
    const telemetry = ctx.stores.telemetry;
    const duckdb = [...(telemetry.backupTo ? [{ name: 'telemetry.duckdb', backupTo: (f: string) => telemetry.backupTo!(f) }] : []), ...(this.opts.backupStores?.() ?? [])];
    try {
      const m = await backupLive({ dataDir: ctx.config.dataDir, db: ctx.stores.db, duckdb, clock: ctx.clock }, dir);
      this.backups?.inc({ result: 'ok' });
      ctx.stores.audit.record('hub', 'hub.backup', dir, { files: m.files.length, counts: m.counts }, ctx.clock());
      ctx.log.info({ dir, counts: m.counts }, 'backup taken');
      return m;
    } catch (err) {
      this.backups?.inc({ result: 'failed' });
      ctx.log.error({ err, dir }, 'backup failed');
      throw err;
    }
  }

  /** One run of every prune, cut-offs from the hub clock; concurrent calls share the run. Returns rows removed per class. */
  runOnce(): Promise<Record<DataClass, number>> {
    return (this.running ??= this.prune().finally(() => (this.running = undefined)));
  }

  private async prune(): Promise<Record<DataClass, number>> {
    const ctx = this.ctx;
    if (!ctx) throw new Error('lifecycle module is not started');
    const r = ctx.config.retention;
    const db = ctx.stores.db;
    const now = ctx.clock();
    const out: Record<DataClass, number> = { events: 0, alarms: 0, telemetry_raw: 0, telemetry_rollups: 0, dead_letters: 0, audit: 0, snapshots: 0 };
    const telemetry = ctx.stores.telemetry;
    const pruneRollups = this.opts.pruneRollups;
    // Each class on its own: a telemetry server that is down must not keep events, alarms or rollups from being pruned.
    const steps: Array<[DataClass, () => number | Promise<number>]> = [
      ['events', () => pruneEvents(db, daysAgo(now, r.events))],
      ['alarms', () => pruneAlarms(db, daysAgo(now, r.alarms))],
      ['dead_letters', () => pruneDeadLetters(db, daysAgo(now, r.deadLetters))],
      // The audit chain's own retention (hub/src/audit.ts: at least 180 days, auth.auditRetentionDays).
      ['audit', () => ctx.stores.audit.retire(ctx.config.auth.auditRetentionDays, now)],
      ['snapshots', () => pruneSnapshots(join(ctx.config.dataDir, 'snapshots'), daysAgo(now, r.snapshots))],
      ...(telemetry.prune ? [['telemetry_raw', () => telemetry.prune!(daysAgo(now, r.telemetryRaw))] as [DataClass, () => Promise<number>]] : []),
      ...(pruneRollups ? [['telemetry_rollups', () => pruneRollups(daysAgo(now, r.telemetryRollups))] as [DataClass, () => Promise<number>]] : []),
    ];
    const failed: DataClass[] = [];
    for (const [c, step] of steps) {
      try {
        out[c] = await step();
      } catch (err) {
        failed.push(c);
        this.failures?.inc({ class: c });
        ctx.log.error({ err, class: c }, 'retention: pruning this data class failed; the others go on');
      }
    }
    for (const c of DATA_CLASSES) this.pruned?.inc({ class: c }, out[c]);
    const total = Object.values(out).reduce((a, b) => a + b, 0);
    if (total > 0) ctx.log.info({ pruned: out }, 'retention job removed old data');
    if (failed.length > 0) throw new Error(`retention: pruning ${failed.join(', ')} failed (the other classes were pruned; the hub log has the errors)`);
    this.lastRun?.set(ctx.clock() / 1000);
    return out;
  }

  /** Measures the data dir's file system, updates the gauges and raises or clears hub.disk_low. */
  async checkDisk(): Promise<DiskState> {
    const ctx = this.ctx;
    if (!ctx) throw new Error('lifecycle module is not started');
    const s = await statfs(ctx.config.dataDir);
    const freeBytes = s.bavail * s.bsize;
    const totalBytes = s.blocks * s.bsize;
    this.free?.set(freeBytes);
    this.total?.set(totalBytes);
    const r = ctx.config.retention;
    const low = freeBytes < r.minFreeBytes || (totalBytes > 0 && (freeBytes / totalBytes) * 100 < r.minFreePercent);
    if (low !== this.diskLow) {
      this.diskLow = low;
      const now = ctx.clock();
      const data = { dataDir: ctx.config.dataDir, freeBytes, totalBytes, minFreeBytes: r.minFreeBytes, minFreePercent: r.minFreePercent };
      if (low) ctx.log.error(data, 'data dir is running out of space');
      this.opts.alarms?.engine.handle({ id: newId(), seq: 0, gateway: 'hub', device: 'hub', type: low ? DISK_LOW_EVENT : DISK_OK_EVENT, ts: now, receivedAt: now, data });
    }
    return { freeBytes, totalBytes, low };
  }

  async stop(): Promise<void> {
    for (const t of this.timers.splice(0)) clearInterval(t);
    await this.running?.catch(() => {});
    const control = this.control;
    this.control = undefined;
    if (control) {
      await new Promise<void>((resolve) => control.close(() => resolve()));
      const path = this.ctx ? controlSocketPath(this.ctx.config.dataDir) : undefined;
      if (path && existsSync(path)) unlinkSync(path);
    }
    this.ctx = undefined;
  }
}
