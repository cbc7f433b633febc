import type { RegisterSpec, RegisterType } from './register-map.ts';
import { wordsOf } from './register-map.ts';

/** 16-bit register words (as a Modbus read returns them) → the raw number of one register spec. */
export function decodeRegister(words: readonly number[], type: RegisterType, wordOrder: 'big' | 'little' = 'big'): number {
  const buf = Buffer.alloc(wordsOf(type) * 2);
  const ordered = wordsOf(type) === 2 && wordOrder === 'little' ? [words[1]!, words[0]!] : words.slice(0, wordsOf(type));
  ordered.forEach((w, i) => buf.writeUInt16BE(w & 0xffff, i * 2));
  switch (type) {
    case 'u16':
      return buf.readUInt16BE(0);
    case 'i16':
      return buf.readInt16BE(0);
    case 'u32':
      return buf.readUInt32BE(0);
    case 'i32':
      return buf.readInt32BE(0);
    case 'float32':
      return buf.readFloatBE(0);
  }
}

/** The inverse, for tests: a raw number → its register words. (The simulators encode their registers on their own, from the datasheets.) */
export function encodeRegister(raw: number, type: RegisterType, wordOrder: 'big' | 'little' = 'big'): number[] {
  const buf = Buffer.alloc(wordsOf(type) * 2);
  switch (type) {
    case 'u16':
      buf.writeUInt16BE(Math.round(raw) & 0xffff, 0);
      break;
    case 'i16':
      buf.writeInt16BE(Math.max(-32768, Math.min(32767, Math.round(raw))), 0);
      break;
    case 'u32':
      buf.writeUInt32BE(Math.round(raw) >>> 0, 0);
      break;
    case 'i32':
      buf.writeInt32BE(Math.max(-2147483648, Math.min(2147483647, Math.round(raw))), 0);
      break;
    case 'float32':
      buf.writeFloatBE(raw, 0);
      break;
  }
  const words = wordsOf(type) === 1 ? [buf.readUInt16BE(0)] : [buf.readUInt16BE(0), buf.readUInt16BE(2)];
  return wordsOf(type) === 2 && wordOrder === 'little' ? [words[1]!, words[0]!] : words;
}

/** A value in the spec's unit → the raw register number (what a meter stores). */
export const toRaw = (value: number, spec: RegisterSpec): number => value / spec.scale;

/**
 * Decodes every register of a map from one block read starting at `start`. A float that is NaN or
 * infinite (a meter signalling "no value") is left out rather than sent as a number.
 */
export function decodeBlock(block: readonly number[], start: number, registers: readonly RegisterSpec[]): { metrics: Record<string, number>; invalid: string[] } {
  const metrics: Record<string, number> = {};
  const invalid: string[] = [];
  for (const r of registers) {
    const at = r.address - start;
    const raw = decodeRegister(block.slice(at, at + wordsOf(r.type)), r.type, r.wordOrder);
    const value = raw * r.scale;
    if (Number.isFinite(value)) metrics[r.metric] = Number(value.toPrecision(12));
    else invalid.push(r.metric);
  }
  return { metrics, invalid };
}
