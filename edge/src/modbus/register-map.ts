/**
 * A meter's Modbus register map, as data: where each value lives, how its words are encoded and how it
 * becomes a contract metric. Maps are written from the vendor's datasheet, one file each in register-maps/.
 */
export type RegisterType = 'u16' | 'i16' | 'u32' | 'i32' | 'float32';

export interface RegisterSpec {
  /** Contract telemetry metric the value becomes, e.g. `energy_kwh`. */
  metric: string;
  /** Zero-based register address (the protocol address, not the 3xxxx/4xxxx datasheet number). */
  address: number;
  type: RegisterType;
  /** For 32-bit types: `big` = high word first (Modbus convention), `little` = low word first (word-swapped meters). */
  wordOrder?: 'big' | 'little';
  /** Raw value × scale = value in `unit`, e.g. 0.001 for a register counting litres reported as m³. */
  scale: number;
  unit: string;
}

export interface RegisterMap {
  name: string;
  description: string;
  /** What the meter measures; the same media as the MQTT meter. */
  medium: 'power' | 'water' | 'gas';
  /** Function code used to read: 3 (holding) or 4 (input registers). */
  table: 'holding' | 'input';
  registers: readonly RegisterSpec[];
}

export const wordsOf = (type: RegisterType): 1 | 2 => (type === 'u16' || type === 'i16' ? 1 : 2);

/** The smallest address span covering every register of a map, so one request reads them all. */
export function span(map: RegisterMap): { start: number; count: number } {
  const start = Math.min(...map.registers.map((r) => r.address));
  const end = Math.max(...map.registers.map((r) => r.address + wordsOf(r.type)));
  return { start, count: end - start };
}

/** Modbus allows at most 125 registers per read request. */
export const MAX_READ_REGISTERS = 125;

export function checkMap(map: RegisterMap): string[] {
  const problems: string[] = [];
  if (map.registers.length === 0) problems.push(`${map.name}: no registers`);
  const seen = new Set<string>();
  map.registers.forEach((r, i) => {
    if (!Number.isInteger(r.address) || r.address < 0 || r.address > 65535) problems.push(`${map.name}/registers/${i}/address: must be an integer 0-65535`);
    if (!Number.isFinite(r.scale) || r.scale === 0) problems.push(`${map.name}/registers/${i}/scale: must be a non-zero number`);
    if (seen.has(r.metric)) problems.push(`${map.name}/registers/${i}/metric: duplicate metric ${r.metric}`);
    seen.add(r.metric);
  });
  if (problems.length === 0 && span(map).count > MAX_READ_REGISTERS) problems.push(`${map.name}: registers span more than ${MAX_READ_REGISTERS} addresses`);
  return problems;
}
