/**
 * An hourly consumption series: `values[i]` is the consumption (kWh, m³) of the hour starting at
 * `start + i` hours (UTC instants); `null` = the hour was not measured.
 */
export interface HourlySeries {
  start: number;
  values: ReadonlyArray<number | null>;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
