import { u16, u32LowFirst } from '../words.ts';
import { put, type MeterModel } from './types.ts';

/**
 * The common cheap water (or gas) meter behind a pulse-to-Modbus converter, as edge/README.md documents
 * it: holding registers (function 03); 40001-40002 the volume counted in litres, an unsigned 32-bit
 * number with the LOW word first; 40003 the flow in hundredths of m³/h (u16).
 */
export const waterU32Litres: MeterModel = {
  name: 'water-u32-litres',
  description: 'water or gas meter: litre counter u32 low word first at 40001, flow 0.01 m³/h at 40003',
  medium: 'water',
  table: 'holding',
  image(state) {
    const image = new Map<number, number>();
    put(image, 40001 - 40001, u32LowFirst(state.total * 1000)); // m³ → litres
    put(image, 40003 - 40001, u16(state.instant * 100)); // m³/h → 0.01 m³/h
    return image;
  },
};
