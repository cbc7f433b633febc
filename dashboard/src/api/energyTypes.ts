/** Answers of the hub's energy routes (docs/API.md, "Energy"). */

export type Medium = 'power' | 'water' | 'gas';
export const MEDIA: readonly Medium[] = ['power', 'water', 'gas'];
export type Step = '15m' | '1h' | '1d' | '1mo';
export const STEPS: readonly Step[] = ['15m', '1h', '1d', '1mo'];
export type Band = 'peak' | 'flat' | 'valley';
export const BANDS: readonly Band[] = ['peak', 'flat', 'valley'];

export interface EnergyMeter {
  id: string;
  medium: Medium;
  unit: string;
  virtual: boolean;
  plus?: string[];
  minus?: string[];
}

export interface EnergyNode {
  id: string;
  name: string;
  type: 'campus' | 'zone' | 'building' | 'floor' | 'dorm';
  use?: string;
  meters: EnergyMeter[];
  children: EnergyNode[];
}

export type ConsumptionFlag = 'rollover' | 'replacement' | 'gap';

export interface Consumption {
  node: string;
  kind: 'node' | 'meter' | 'virtual';
  medium: Medium;
  unit: string;
  step: Step;
  total: number;
  points: Array<[number, number, ConsumptionFlag[]]>;
}

export interface Amounts {
  amount: number;
  cost: number;
}

export interface MediumCost {
  medium: Medium;
  unit: string;
  amount: number;
  cost: number;
  unpriced: number;
  byBand?: Record<Band, Amounts>;
  byTariff: Array<{ tariff: string | null; amount: number; cost: number }>;
}

export interface Cost {
  node: string;
  from: number;
  to: number;
  total: number;
  media: MediumCost[];
}

export interface Anomaly {
  rule: string;
  meter: string;
  from: number;
  to: number;
  message: string;
  numbers: Record<string, number>;
}

export interface RegisterProblem {
  meter: string;
  from: number;
  to: number;
  message: string;
}

export interface Anomalies {
  anomalies: Anomaly[];
  registerProblems: RegisterProblem[];
}

export interface SchedulePeriod {
  from: string;
  to: string;
  level?: number;
}

/** An `energy.schedules[]` entry of the hub's config (hub/README.md, "Energy"). */
export interface WeeklyScheduleConfig {
  id: string;
  circuits: string[];
  term: Partial<Record<Weekday, SchedulePeriod[]>>;
  vacation?: Partial<Record<Weekday, SchedulePeriod[]>>;
  holiday?: SchedulePeriod[];
  exceptions?: Array<{ date: string; as?: Weekday; periods?: SchedulePeriod[] }>;
  /** Set when the plan in force was edited in the console (PUT /api/energy/schedules/:id) rather than configured. */
  edited?: { at: number; by: string };
}

/** The body of PUT /api/energy/schedules/:id: a schedule entry without id, circuits and edit stamp. */
export type SchedulePlan = Omit<WeeklyScheduleConfig, 'id' | 'circuits' | 'edited'>;

/** An entry of GET /api/audit. */
export interface AuditEntry {
  id: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface CircuitStatus {
  circuit: string;
  schedule: string;
  wanted: { on: boolean; level: number; reason: string };
  sent: { on: boolean; level: number; commandId: string; at: number; confirmed: boolean | null; error?: string } | null;
}

export interface Schedules {
  schedules: WeeklyScheduleConfig[];
  circuits: CircuitStatus[];
}
