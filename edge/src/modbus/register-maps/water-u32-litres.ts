import type { RegisterMap } from '../register-map.ts';

/**
 * The common cheap water/gas meter with a Modbus converter: volume counted in litres in a 32-bit
 * holding register pair, low word first; flow in hundredths of m³/h in one register.
 */
export const waterU32Litres: RegisterMap = {
  name: 'water-u32-litres',
  description: 'water or gas meter with a litre counter (u32, low word first) and flow in 0.01 m³/h',
  medium: 'water',
  table: 'holding',
  registers: [
    { metric: 'volume_m3', address: 0x0000, type: 'u32', wordOrder: 'little', scale: 0.001, unit: 'm³' },
    { metric: 'flow_m3h', address: 0x0002, type: 'u16', scale: 0.01, unit: 'm³/h' },
  ],
};
