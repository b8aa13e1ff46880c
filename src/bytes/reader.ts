import { FormatError } from '../errors.js';

/**
 * Bounds-checked little/big-endian reads over a byte array. Every out-of-range read becomes a
 * FormatError naming the format, the offset and what was being read, never a RangeError.
 */
export class ByteReader {
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    /** Format name used in errors ('ELF', 'BTF', ...). */
    readonly format: string,
    readonly littleEndian = true,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  /** Throws unless `size` bytes starting at `offset` lie inside the buffer. */
  need(offset: number, size: number, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || size < 0 || offset + size > this.bytes.byteLength) {
      throw new FormatError(
        this.format,
        offset,
        `${what}: needs ${size} bytes but the data is ${this.bytes.byteLength} bytes long`,
      );
    }
  }

  u8(offset: number, what = 'u8'): number {
    this.need(offset, 1, what);
    return this.view.getUint8(offset);
  }

  u16(offset: number, what = 'u16'): number {
    this.need(offset, 2, what);
    return this.view.getUint16(offset, this.littleEndian);
  }

  i16(offset: number, what = 'i16'): number {
    this.need(offset, 2, what);
    return this.view.getInt16(offset, this.littleEndian);
  }

  u32(offset: number, what = 'u32'): number {
    this.need(offset, 4, what);
    return this.view.getUint32(offset, this.littleEndian);
  }

  i32(offset: number, what = 'i32'): number {
    this.need(offset, 4, what);
    return this.view.getInt32(offset, this.littleEndian);
  }

  u64(offset: number, what = 'u64'): bigint {
    this.need(offset, 8, what);
    return this.view.getBigUint64(offset, this.littleEndian);
  }

  i64(offset: number, what = 'i64'): bigint {
    this.need(offset, 8, what);
    return this.view.getBigInt64(offset, this.littleEndian);
  }

  /** A u64 that must fit in a JavaScript number (sizes and offsets inside a file). */
  u64n(offset: number, what = 'u64'): number {
    const v = this.u64(offset, what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FormatError(this.format, offset, `${what}: value ${v} is too large to be an offset or size`);
    }
    return Number(v);
  }

  /** A sub-view of `size` bytes at `offset` (no copy). */
  slice(offset: number, size: number, what: string): Uint8Array {
    this.need(offset, size, what);
    return this.bytes.subarray(offset, offset + size);
  }

  /** A NUL-terminated string starting at `offset`, which must end before `end`. */
  cstring(offset: number, end: number, what: string): string {
    if (offset < 0 || offset >= end || end > this.bytes.byteLength) {
      throw new FormatError(this.format, offset, `${what}: string offset outside its table`);
    }
    const nul = this.bytes.indexOf(0, offset);
    if (nul < 0 || nul >= end) {
      throw new FormatError(this.format, offset, `${what}: string is not NUL-terminated inside its table`);
    }
    return latin1OrUtf8(this.bytes, offset, nul);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Decodes ASCII fast (the common case for symbol and type names), UTF-8 otherwise. */
export function latin1OrUtf8(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii && end - start < 64) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  return decoder.decode(bytes.subarray(start, end));
}

/**
 * The text of a NUL-padded buffer up to its first NUL (all of it when there is none), as UTF-8:
 * kernel names (map_name, comm), verifier logs, char arrays.
 */
export function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}
