/** What a simulated meter measures at one moment, in engineering units. */
export interface MeterState {
  /** Cumulative register: kWh for power, m³ for water and gas. */
  total: number;
  /** Instantaneous draw: kW for power, m³/h for water and gas. */
  instant: number;
}

/**
 * A meter model as its datasheet describes it: which register table it answers on (function 4 = input,
 * 3 = holding) and the contents of its registers for a given state. Addresses are protocol (zero-based)
 * addresses; the datasheet's 3xxxx / 4xxxx numbers are written beside each entry.
 */
export interface MeterModel {
  name: string;
  description: string;
  medium: 'power' | 'water' | 'gas';
  table: 'input' | 'holding';
  /** Register address → 16-bit word. Addresses not in the image read as 0 (reserved registers). */
  image(state: MeterState): Map<number, number>;
}

/** Puts a value's words at consecutive addresses. */
export function put(image: Map<number, number>, address: number, words: readonly number[]): void {
  words.forEach((w, i) => image.set(address + i, w));
}
