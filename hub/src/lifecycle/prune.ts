import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StateDb } from '../store/state-db.ts';

/**
 * One prune per data class. Each takes the cut-off (ms epoch: rows older than it go) and returns how many rows or
 * files it removed. They run from the lifecycle module (module.ts) on the hub's clock.
 */

const DAY = 86_400_000;
export const daysAgo = (now: number, days: number): number => now - days * DAY;

/** Device events with a source time before `before`. */
export function pruneEvents(db: StateDb, before: number): number {
  return db.prepare('DELETE FROM events WHERE ts < ?').run(before).changes;
}

/** Resolved alarms resolved before `before`, with their timelines. Open (raised/acknowledged) alarms are never pruned. */
export function pruneAlarms(db: StateDb, before: number): number {
  return db.transaction(() => {
    db.prepare("DELETE FROM alarm_timeline WHERE alarm IN (SELECT id FROM alarms WHERE state = 'resolved' AND resolved_at < ?)").run(before);
    return db.prepare("DELETE FROM alarms WHERE state = 'resolved' AND resolved_at < ?").run(before).changes;
  })();
}

export function pruneDeadLetters(db: StateDb, before: number): number {
  return db.prepare('DELETE FROM dead_letters WHERE ts < ?').run(before).changes;
}

/** Files directly in `dir` last modified before `before`; a missing folder is nothing to prune. */
export function pruneSnapshots(dir: string, before: number): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    const file = join(dir, name);
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile() || st.mtimeMs >= before) continue;
    rmSync(file, { force: true });
    n += 1;
  }
  return n;
}
