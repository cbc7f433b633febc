/**
 * Register word encoding for simulated meters, written from the meters' datasheets and deliberately
 * independent of the edge's codec: the simulator is a device, so a simulator-to-edge test only proves
 * something when each side encodes the registers by its own reading of the datasheet.
 *
 * A Modbus register is a 16-bit word sent high byte first. A 32-bit value takes two registers; which one
 * comes first is the meter's choice (its "word order").
 */

/** IEEE-754 single precision, high word first (Eastron SDM series: "two consecutive 16 bit registers ... MSB first"). */
export function float32HighFirst(value: number): [number, number] {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, false);
  return [view.getUint16(0, false), view.getUint16(2, false)];
}

/** Unsigned 32-bit counter, low word first (the word-swapped layout of cheap pulse-to-Modbus converters). */
export function u32LowFirst(value: number): [number, number] {
  const v = Math.max(0, Math.min(0xffff_ffff, Math.round(value)));
  return [v % 0x1_0000, Math.floor(v / 0x1_0000)];
}

/** Unsigned 16-bit register, clamped to 0..65535. */
export function u16(value: number): [number] {
  return [Math.max(0, Math.min(0xffff, Math.round(value)))];
}
