import type { RegisterMap } from '../register-map.ts';

/** Eastron SDM630 three-phase power meter (input registers, IEEE 754 floats, high word first). */
export const sdm630: RegisterMap = {
  name: 'sdm630',
  description: 'Eastron SDM630 three-phase power meter',
  medium: 'power',
  table: 'input',
  registers: [
    // 30053 "Total system power", watts.
    { metric: 'power_kw', address: 0x0034, type: 'float32', wordOrder: 'big', scale: 0.001, unit: 'kW' },
    // 30073 "Total import kWh".
    { metric: 'energy_kwh', address: 0x0048, type: 'float32', wordOrder: 'big', scale: 1, unit: 'kWh' },
  ],
};
