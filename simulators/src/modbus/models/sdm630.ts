import { float32HighFirst } from '../words.ts';
import { put, type MeterModel, type MeterState } from './types.ts';

/**
 * Eastron SDM630 (Modbus) three-phase four-wire meter, from the "SDM630 Modbus Protocol" datasheet:
 * input registers (function 04), every parameter an IEEE-754 float32 in two consecutive registers, high
 * word first. Register number 3xxxx = protocol address xxxx - 1. The meter fills every parameter, so a
 * reader that picks the wrong address gets another plausible number, not a zero.
 */

const PHASE_VOLTS = [230.0, 229.5, 231.25] as const; // L-N, V
const PHASE_SHARE = [0.36, 0.33, 0.31] as const; // how the load splits over L1..L3
const POWER_FACTOR = 0.96;
const FREQUENCY_HZ = 50.0;

/** The datasheet's input register table (the parameters a three-phase four-wire meter reports). */
export interface Sdm630Values {
  volts: readonly [number, number, number];
  amps: readonly [number, number, number];
  watts: readonly [number, number, number];
  va: readonly [number, number, number];
  var: readonly [number, number, number];
  pf: readonly [number, number, number];
  totalW: number;
  totalVa: number;
  totalVar: number;
  totalPf: number;
  hz: number;
  importKwh: number;
  exportKwh: number;
  lineVolts: readonly [number, number, number];
}

/** Physical values for a state: the total draw split over the phases at a fixed power factor. */
export function sdm630Values(s: MeterState): Sdm630Values {
  const totalW = s.instant * 1000;
  const watts = PHASE_SHARE.map((k) => totalW * k) as unknown as [number, number, number];
  const va = watts.map((w) => Math.abs(w) / POWER_FACTOR) as unknown as [number, number, number];
  const vars = watts.map((w, i) => Math.sqrt(Math.max(0, va[i]! ** 2 - w ** 2))) as unknown as [number, number, number];
  const amps = va.map((x, i) => x / PHASE_VOLTS[i]!) as unknown as [number, number, number];
  const lineVolts = [0, 1, 2].map((i) => Math.sqrt(PHASE_VOLTS[i]! ** 2 + PHASE_VOLTS[(i + 1) % 3]! ** 2 + PHASE_VOLTS[i]! * PHASE_VOLTS[(i + 1) % 3]!)) as unknown as [number, number, number];
  return {
    volts: PHASE_VOLTS,
    amps,
    watts,
    va,
    var: vars,
    pf: [POWER_FACTOR, POWER_FACTOR, POWER_FACTOR],
    totalW,
    totalVa: va[0] + va[1] + va[2],
    totalVar: vars[0] + vars[1] + vars[2],
    totalPf: POWER_FACTOR,
    hz: FREQUENCY_HZ,
    importKwh: s.total,
    exportKwh: 0,
    lineVolts,
  };
}

/** Register number (as printed in the datasheet, 30001-based) → value. */
export function sdm630Registers(v: Sdm630Values): Array<[register: number, value: number]> {
  const avgVolts = (v.volts[0] + v.volts[1] + v.volts[2]) / 3;
  const sumAmps = v.amps[0] + v.amps[1] + v.amps[2];
  return [
    [30001, v.volts[0]], // Phase 1 line to neutral volts, V
    [30003, v.volts[1]], // Phase 2 line to neutral volts
    [30005, v.volts[2]], // Phase 3 line to neutral volts
    [30007, v.amps[0]], // Phase 1 current, A
    [30009, v.amps[1]],
    [30011, v.amps[2]],
    [30013, v.watts[0]], // Phase 1 power, W
    [30015, v.watts[1]],
    [30017, v.watts[2]],
    [30019, v.va[0]], // Phase 1 volt amps, VA
    [30021, v.va[1]],
    [30023, v.va[2]],
    [30025, v.var[0]], // Phase 1 volt amps reactive, VAr
    [30027, v.var[1]],
    [30029, v.var[2]],
    [30031, v.pf[0]], // Phase 1 power factor
    [30033, v.pf[1]],
    [30035, v.pf[2]],
    [30037, 0], // Phase 1 phase angle, degrees
    [30039, 0],
    [30041, 0],
    [30043, avgVolts], // Average line to neutral volts
    [30047, sumAmps / 3], // Average line current
    [30049, sumAmps], // Sum of line currents
    [30053, v.totalW], // Total system power, W
    [30057, v.totalVa], // Total system volt amps, VA
    [30061, v.totalVar], // Total system VAr
    [30063, v.totalPf], // Total system power factor
    [30067, 0], // Total system phase angle
    [30071, v.hz], // Frequency of supply voltages, Hz
    [30073, v.importKwh], // Total import kWh
    [30075, v.exportKwh], // Total export kWh
    [30077, 0], // Total import kVArh
    [30079, 0], // Total export kVArh
    [30201, v.lineVolts[0]], // Line 1 to line 2 volts
    [30203, v.lineVolts[1]], // Line 2 to line 3 volts
    [30205, v.lineVolts[2]], // Line 3 to line 1 volts
    [30207, (v.lineVolts[0] + v.lineVolts[1] + v.lineVolts[2]) / 3], // Average line to line volts
    [30225, 0], // Neutral current, A
    [30343, v.importKwh + v.exportKwh], // Total kWh (0x0156)
    [30345, 0], // Total kVArh
  ];
}

export const sdm630: MeterModel = {
  name: 'sdm630',
  description: 'Eastron SDM630 three-phase power meter (input registers, float32 high word first)',
  medium: 'power',
  table: 'input',
  image(state) {
    const image = new Map<number, number>();
    for (const [register, value] of sdm630Registers(sdm630Values(state))) put(image, register - 30001, float32HighFirst(value));
    return image;
  },
};
