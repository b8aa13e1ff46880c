/** Checks of the numbers a write spec holds, each failing with an ElfWriteError naming the field. */

import { ElfWriteError } from './spec.js';

/** The largest sh_addralign written (2 MiB, a huge page): more would only pad files with zeros. */
export const MAX_SECTION_ALIGNMENT = 2 ** 21;

/** `n` rounded up to a multiple of `a`. */
export const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** A section alignment: 0, or a power of two up to MAX_SECTION_ALIGNMENT. */
export function alignment(a: number, what: string): number {
  if (a === 0) return 0;
  if (!Number.isSafeInteger(a) || a < 0 || 2 ** Math.round(Math.log2(a)) !== a) {
    throw new ElfWriteError(`${what}: addralign ${a} is not 0 or a power of two`);
  }
  if (a > MAX_SECTION_ALIGNMENT) throw new ElfWriteError(`${what}: addralign ${a} is larger than the supported ${MAX_SECTION_ALIGNMENT}`);
  return a;
}

/** `v` checked to be an unsigned integer of `bits` bits (at most 53). */
export function uint(v: number, bits: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 2 ** bits - 1) throw new ElfWriteError(`${what}: ${v} is not an unsigned ${bits}-bit integer`);
  return v;
}

/** `v` checked to be an unsigned 64-bit integer. */
export function u64(v: bigint | number, what: string): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new ElfWriteError(`${what}: ${v} is not an integer (use a bigint beyond 2^53)`);
  const b = BigInt(v);
  if (b < 0n || b > 0xffffffffffffffffn) throw new ElfWriteError(`${what}: ${v} is not an unsigned 64-bit integer`);
  return b;
}

/** `v` checked to be a signed 64-bit integer. */
export function i64(v: bigint | number, what: string): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new ElfWriteError(`${what}: ${v} is not an integer (use a bigint beyond 2^53)`);
  const b = BigInt(v);
  if (b < -(2n ** 63n) || b >= 2n ** 63n) throw new ElfWriteError(`${what}: ${v} is not a signed 64-bit integer`);
  return b;
}
