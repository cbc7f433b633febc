import type { EnergyConfig } from './config.ts';

/** The campus calendar (holidays, vacations) as configured; the anomaly detector's baselines are in detection/. */
export type Calendar = EnergyConfig['calendar'];
