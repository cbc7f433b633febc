import { newId } from '@warden/contract';
import type { StateDb } from '../store/state-db.ts';
import type { AlertKind } from './detection/detector.ts';

/** Facilities said an energy alert was not an anomaly: kept, and fed to the detector as a dismissed window. */
export interface AnomalyFeedback {
  id: string;
  meter: string;
  /** Only this kind of alert is dismissed; null = any kind in the window. */
  kind: AlertKind | null;
  from: number;
  to: number;
  note: string | null;
  by: string;
  at: number;
}

interface Row {
  id: string;
  meter: string;
  kind: string | null;
  from_ts: number;
  to_ts: number;
  note: string | null;
  by_user: string;
  at: number;
}

const toFeedback = (r: Row): AnomalyFeedback => ({ id: r.id, meter: r.meter, kind: r.kind as AlertKind | null, from: r.from_ts, to: r.to_ts, note: r.note, by: r.by_user, at: r.at });

/** Table `energy_anomaly_feedback` in state.db (migration step in store/migrations.ts). */
export class AnomalyFeedbackStore {
  private readonly q;
  constructor(db: StateDb) {
    this.q = {
      insert: db.prepare('INSERT INTO energy_anomaly_feedback (id, meter, kind, from_ts, to_ts, note, by_user, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      byMeter: db.prepare<[string], Row>('SELECT * FROM energy_anomaly_feedback WHERE meter = ? ORDER BY at, id'),
      all: db.prepare<[], Row>('SELECT * FROM energy_anomaly_feedback ORDER BY at, id'),
    };
  }

  add(f: Omit<AnomalyFeedback, 'id'>): AnomalyFeedback {
    const row: AnomalyFeedback = { id: newId(f.at), ...f };
    this.q.insert.run(row.id, row.meter, row.kind, row.from, row.to, row.note, row.by, row.at);
    return row;
  }

  list(meter?: string): AnomalyFeedback[] {
    return (meter === undefined ? this.q.all.all() : this.q.byMeter.all(meter)).map(toFeedback);
  }
}
