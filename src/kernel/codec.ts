/**
 * Codecs turn map keys and values into bytes and back. A codec has a fixed size and writes
 * into a caller's buffer, so the hot paths of a typed map encode straight into the map's
 * reusable scratch buffers without allocating. These are the plain codecs (numbers, bigints,
 * bytes, strings, arrays, hand-written structs, per-CPU values, LPM trie keys); codecs derived
 * from BTF are in codec-btf.ts.
 */
import { cString } from '../bytes/reader.js';
import { TsbpfError } from '../errors.js';
import { HOST_LE } from '../sys/index.js';
import { perCpuStride, possibleCpus } from './map-cpus.js';

/**
 * Converts values of type T to exactly `size` bytes and back.
 *
 * @example
 * const key = u32.encode(7);      // Uint8Array [7, 0, 0, 0] on x86
 * u32.decode(key) === 7;
 */
export interface Codec<T> {
  /** Bytes of an encoded value. */
  readonly size: number;
  /** Alignment as a C compiler would place the value in a struct. */
  readonly align: number;
  /**
   * Writes `value` into `out[0, size)`. Every one of those bytes is written (padding as
   * zero): buffers are reused, and a hash map key with stale padding is a different key.
   */
  encodeInto(value: T, out: Uint8Array): void;
  /** Reads a value from `bytes[0, size)`. */
  decode(bytes: Uint8Array): T;
  /** A fresh buffer holding `value`. */
  encode(value: T): Uint8Array;
}

/** A value that does not fit its codec (wrong type, out of range, too long). */
export class CodecError extends TsbpfError {
  override name = 'CodecError';
  constructor(
    /** Where in the value: '' for the value itself, '.comm', '[2].pid', 'key.prefixlen'. */
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path === '' ? 'value' : path}: ${detail}`);
  }

  /** The same error one level up: `prefix` is '.field', '[index]', 'key' or 'value'. */
  within(prefix: string): CodecError {
    return new CodecError(prefix + this.path, this.detail);
  }
}

/** Rethrows a CodecError from a nested codec with its place in the outer value. */
export function rethrowWithin(e: unknown, prefix: string): never {
  throw e instanceof CodecError ? e.within(prefix) : e;
}

/** The part every codec shares: `encode` on top of `encodeInto`. */
export abstract class BaseCodec<T> implements Codec<T> {
  abstract readonly size: number;
  abstract readonly align: number;
  abstract encodeInto(value: T, out: Uint8Array): void;
  abstract decode(bytes: Uint8Array): T;
  encode(value: T): Uint8Array {
    const out = new Uint8Array(this.size);
    this.encodeInto(value, out);
    return out;
  }
}

/**
 * A DataView over `b`'s whole buffer (read at b.byteOffset). Making a DataView costs more than
 * the read itself, and hot paths pass the same few scratch buffers again and again, so the
 * last few views are kept.
 */
const views: Array<{ buffer: ArrayBufferLike; view: DataView } | undefined> = [undefined, undefined, undefined, undefined];
let nextView = 0;
function viewOf(b: Uint8Array): DataView {
  for (let i = 0; i < 4; i++) {
    const v = views[i];
    if (v !== undefined && v.buffer === b.buffer) return v.view;
  }
  const view = new DataView(b.buffer);
  if (b.buffer.byteLength > 1 << 20) return view; // do not keep big batch buffers alive
  views[nextView] = { buffer: b.buffer, view };
  nextView = (nextView + 1) & 3;
  return view;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Integers up to 32 bits as numbers, range-checked on encode. */
class IntCodec extends BaseCodec<number> {
  readonly align: number;
  private readonly min: number;
  private readonly max: number;
  constructor(
    readonly size: 1 | 2 | 4,
    readonly signed: boolean,
    private readonly le = HOST_LE,
  ) {
    super();
    this.align = size;
    const bits = size * 8;
    this.min = signed ? -(2 ** (bits - 1)) : 0;
    this.max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  }
  encodeInto(value: number, out: Uint8Array): void {
    if (!Number.isInteger(value) || value < this.min || value > this.max) {
      throw new CodecError('', `${String(value)} is not a${this.signed ? ' signed' : 'n unsigned'} ${this.size * 8}-bit integer`);
    }
    // Bit operations on the bytes: cheaper than a DataView, and they wrap negatives to two's
    // complement by themselves (>>> and & work on the 32-bit pattern).
    switch (this.size) {
      case 1:
        out[0] = value & 0xff;
        return;
      case 2:
        out[this.le ? 0 : 1] = value & 0xff;
        out[this.le ? 1 : 0] = (value >>> 8) & 0xff;
        return;
      default:
        if (this.le) {
          out[0] = value & 0xff;
          out[1] = (value >>> 8) & 0xff;
          out[2] = (value >>> 16) & 0xff;
          out[3] = (value >>> 24) & 0xff;
        } else {
          out[3] = value & 0xff;
          out[2] = (value >>> 8) & 0xff;
          out[1] = (value >>> 16) & 0xff;
          out[0] = (value >>> 24) & 0xff;
        }
    }
  }
  decode(b: Uint8Array): number {
    switch (this.size) {
      case 1:
        return this.signed ? (b[0]! << 24) >> 24 : b[0]!;
      case 2: {
        const v = this.le ? b[0]! | (b[1]! << 8) : b[1]! | (b[0]! << 8);
        return this.signed ? (v << 16) >> 16 : v;
      }
      default: {
        const v = this.le ? b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24) : b[3]! | (b[2]! << 8) | (b[1]! << 16) | (b[0]! << 24);
        return this.signed ? v : v >>> 0;
      }
    }
  }
}

/** 64-bit integers as bigints, range-checked on encode. */
class BigIntCodec extends BaseCodec<bigint> {
  readonly size = 8;
  readonly align = 8;
  constructor(
    readonly signed: boolean,
    private readonly le = HOST_LE,
  ) {
    super();
  }
  encodeInto(value: bigint, out: Uint8Array): void {
    // Comparisons, not BigInt.asUintN: no allocation on the hot path.
    if (typeof value !== 'bigint' || (this.signed ? value < I64_MIN || value > I64_MAX : value < 0n || value > U64_MAX)) {
      throw new CodecError('', `${String(value)} is not a${this.signed ? ' signed' : 'n unsigned'} 64-bit bigint`);
    }
    if (this.signed) viewOf(out).setBigInt64(out.byteOffset, value, this.le);
    else viewOf(out).setBigUint64(out.byteOffset, value, this.le);
  }
  decode(b: Uint8Array): bigint {
    const v = viewOf(b);
    return this.signed ? v.getBigInt64(b.byteOffset, this.le) : v.getBigUint64(b.byteOffset, this.le);
  }
}

class FloatCodec extends BaseCodec<number> {
  readonly align: number;
  constructor(
    readonly size: 4 | 8,
    private readonly le = HOST_LE,
  ) {
    super();
    this.align = size;
  }
  encodeInto(value: number, out: Uint8Array): void {
    if (typeof value !== 'number') throw new CodecError('', `${String(value)} is not a number`);
    if (this.size === 4) viewOf(out).setFloat32(out.byteOffset, value, this.le);
    else viewOf(out).setFloat64(out.byteOffset, value, this.le);
  }
  decode(b: Uint8Array): number {
    return this.size === 4 ? viewOf(b).getFloat32(b.byteOffset, this.le) : viewOf(b).getFloat64(b.byteOffset, this.le);
  }
}

/** Unsigned 8-bit integer. */
export const u8: Codec<number> = new IntCodec(1, false);
/** Unsigned 16-bit integer in host byte order. */
export const u16: Codec<number> = new IntCodec(2, false);
/** Unsigned 32-bit integer in host byte order (array indexes, pids). */
export const u32: Codec<number> = new IntCodec(4, false);
/** Unsigned 64-bit integer as a bigint (counters, timestamps, addresses). */
export const u64: Codec<bigint> = new BigIntCodec(false);
/** Signed 8-bit integer. */
export const i8: Codec<number> = new IntCodec(1, true);
/** Signed 16-bit integer. */
export const i16: Codec<number> = new IntCodec(2, true);
/** Signed 32-bit integer. */
export const i32: Codec<number> = new IntCodec(4, true);
/** Signed 64-bit integer as a bigint. */
export const i64: Codec<bigint> = new BigIntCodec(true);
/** 32-bit float. */
export const f32: Codec<number> = new FloatCodec(4);
/** 64-bit float. */
export const f64: Codec<number> = new FloatCodec(8);

/** Integer codecs for an explicit byte order (for BTF of the other endianness). */
export function intCodec(size: 1 | 2 | 4, signed: boolean, littleEndian: boolean): Codec<number>;
export function intCodec(size: 8, signed: boolean, littleEndian: boolean): Codec<bigint>;
export function intCodec(size: 1 | 2 | 4 | 8, signed: boolean, littleEndian: boolean): Codec<number> | Codec<bigint> {
  return size === 8 ? new BigIntCodec(signed, littleEndian) : new IntCodec(size, signed, littleEndian);
}

/** Float codecs for an explicit byte order. */
export function floatCodec(size: 4 | 8, littleEndian: boolean): Codec<number> {
  return new FloatCodec(size, littleEndian);
}

class BoolCodec extends BaseCodec<boolean> {
  readonly align: number;
  constructor(readonly size: number) {
    super();
    this.align = Math.min(size, 8);
  }
  encodeInto(value: boolean, out: Uint8Array): void {
    if (typeof value !== 'boolean') throw new CodecError('', `${String(value)} is not a boolean`);
    out.fill(0, 0, this.size);
    out[0] = value ? 1 : 0;
  }
  decode(b: Uint8Array): boolean {
    for (let i = 0; i < this.size; i++) if (b[i] !== 0) return true;
    return false;
  }
}

/** C `_Bool` (one byte). */
export const bool: Codec<boolean> = new BoolCodec(1);

/** A boolean stored in `size` bytes (BTF ints with the BOOL encoding). */
export function boolCodec(size: number): Codec<boolean> {
  return size === 1 ? bool : new BoolCodec(size);
}

class BytesCodec extends BaseCodec<Uint8Array> {
  readonly align = 1;
  constructor(readonly size: number) {
    super();
  }
  encodeInto(value: Uint8Array, out: Uint8Array): void {
    if (!(value instanceof Uint8Array) || value.byteLength !== this.size) {
      throw new CodecError('', `expected ${this.size} bytes, got ${value instanceof Uint8Array ? value.byteLength : typeof value}`);
    }
    out.set(value);
  }
  decode(b: Uint8Array): Uint8Array {
    return b.slice(0, this.size);
  }
}

/**
 * Raw bytes of a fixed length, for maps without types (or keys nobody decodes).
 *
 * @example
 * const raw = TypedMap.of(map, bytes(map.keySize), bytes(map.valueSize));
 */
export function bytes(size: number): Codec<Uint8Array> {
  return new BytesCodec(size);
}

const utf8 = new TextEncoder();

class CStringCodec extends BaseCodec<string> {
  readonly align = 1;
  constructor(readonly size: number) {
    super();
  }
  encodeInto(value: string, out: Uint8Array): void {
    if (typeof value !== 'string') throw new CodecError('', `${String(value)} is not a string`);
    const text = utf8.encode(value);
    // A string filling the array exactly is allowed (the kernel's comm fields may), a longer
    // one is an error: truncating a hash key silently would look up a different key.
    if (text.byteLength > this.size) throw new CodecError('', `"${value}" is ${text.byteLength} bytes, longer than char[${this.size}]`);
    out.set(text);
    out.fill(0, text.byteLength, this.size);
  }
  decode(b: Uint8Array): string {
    return cString(b.subarray(0, this.size));
  }
}

/** A NUL-padded string in a `char[size]` (task comms, names). Decoding stops at the first NUL. */
export function cstring(size: number): Codec<string> {
  return new CStringCodec(size);
}

class ArrayCodec<T> extends BaseCodec<T[]> {
  readonly size: number;
  readonly align: number;
  constructor(
    private readonly element: Codec<T>,
    readonly length: number,
    /** Bytes between elements (per-CPU values are 8-byte aligned slots). */
    private readonly stride = element.size,
  ) {
    super();
    this.size = stride * length;
    this.align = element.align;
  }
  encodeInto(value: T[], out: Uint8Array): void {
    if (!Array.isArray(value) || value.length !== this.length) {
      throw new CodecError('', `expected an array of ${this.length} elements, got ${Array.isArray(value) ? value.length : typeof value}`);
    }
    const { element, stride } = this;
    if (stride !== element.size) out.fill(0, 0, this.size);
    for (let i = 0; i < value.length; i++) {
      try {
        element.encodeInto(value[i]!, out.subarray(i * stride, i * stride + element.size));
      } catch (e) {
        rethrowWithin(e, `[${i}]`);
      }
    }
  }
  decode(b: Uint8Array): T[] {
    const out = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.element.decode(b.subarray(i * this.stride, i * this.stride + this.element.size));
    return out;
  }
}

/** A fixed-length array `T[length]`, as a JavaScript array of exactly that length. */
export function array<T>(element: Codec<T>, length: number): Codec<T[]> {
  return new ArrayCodec(element, length);
}

/**
 * A per-CPU value: one `T` per possible CPU, each in a slot rounded up to 8 bytes, which is how
 * the kernel lays out per-CPU values for user space (kernel/bpf/syscall.c).
 *
 * @example
 * using m = PerCpuArrayMap.create({ value: u64, maxEntries: 1 });
 * m.get(0); // [0n, 0n, ...] one per possible CPU
 */
export function perCpu<T>(element: Codec<T>, cpus = possibleCpus()): Codec<T[]> {
  return new ArrayCodec(element, cpus, perCpuStride(element.size));
}

/** Field codecs of a struct, in declaration order. */
export type StructFields<T> = { [K in keyof T]: Codec<T[K]> };

class StructCodec<T extends object> extends BaseCodec<T> {
  readonly size: number;
  readonly align: number;
  private readonly places: Array<{ name: keyof T & string; codec: Codec<T[keyof T & string]>; offset: number }> = [];
  constructor(fields: StructFields<T>) {
    super();
    let offset = 0;
    let align = 1;
    for (const name of Object.keys(fields) as Array<keyof T & string>) {
      const codec = fields[name] as Codec<T[keyof T & string]>;
      offset = Math.ceil(offset / codec.align) * codec.align;
      this.places.push({ name, codec, offset });
      offset += codec.size;
      align = Math.max(align, codec.align);
    }
    this.align = align;
    this.size = Math.ceil(offset / align) * align;
  }
  encodeInto(value: T, out: Uint8Array): void {
    if (typeof value !== 'object' || value === null) throw new CodecError('', `${String(value)} is not an object`);
    out.fill(0, 0, this.size);
    for (const p of this.places) {
      const v = value[p.name];
      if (v === undefined) continue;
      try {
        p.codec.encodeInto(v, out.subarray(p.offset, p.offset + p.codec.size));
      } catch (e) {
        rethrowWithin(e, `.${p.name}`);
      }
    }
  }
  decode(b: Uint8Array): T {
    const out = {} as T;
    for (const p of this.places) out[p.name] = p.codec.decode(b.subarray(p.offset, p.offset + p.codec.size));
    return out;
  }
}

/**
 * A C struct laid out by C's rules (each field at its alignment, the size rounded up to the
 * largest alignment), for maps without BTF. Missing fields encode as zero.
 *
 * @example
 * const event = struct({ pid: u32, uid: u32, comm: cstring(16) }); // 24 bytes, like struct event
 */
export function struct<T extends object>(fields: StructFields<T>): Codec<T> {
  return new StructCodec(fields);
}

/** The key of an LPM trie (struct bpf_lpm_trie_key_u8): a prefix length in bits and the data. */
export interface LpmKey<D = Uint8Array> {
  prefixlen: number;
  data: D;
}

/**
 * An LPM trie key over `data` (bytes of an address, in network byte order for IP prefixes).
 *
 * @example
 * const key = lpmKey(bytes(4));
 * key.encode({ prefixlen: 24, data: Uint8Array.of(10, 0, 0, 0) }); // 10.0.0.0/24
 */
export function lpmKey<D = Uint8Array>(data: Codec<D>): Codec<LpmKey<D>> {
  return new LpmKeyCodec(data);
}

class LpmKeyCodec<D> extends BaseCodec<LpmKey<D>> {
  readonly size: number;
  readonly align = 4;
  constructor(private readonly data: Codec<D>) {
    super();
    this.size = 4 + data.size;
  }
  encodeInto(value: LpmKey<D>, out: Uint8Array): void {
    if (typeof value !== 'object' || value === null) throw new CodecError('', 'an LPM trie key is { prefixlen, data }');
    const max = this.data.size * 8;
    if (!Number.isInteger(value.prefixlen) || value.prefixlen < 0 || value.prefixlen > max) throw new CodecError('.prefixlen', `${value.prefixlen} is not a prefix length 0..${max}`);
    u32.encodeInto(value.prefixlen, out);
    try {
      this.data.encodeInto(value.data, out.subarray(4, this.size));
    } catch (e) {
      rethrowWithin(e, '.data');
    }
  }
  decode(b: Uint8Array): LpmKey<D> {
    return { prefixlen: u32.decode(b), data: this.data.decode(b.subarray(4, this.size)) };
  }
}

/** Zero bytes: the "key" of queues, stacks and bloom filters. */
export const none: Codec<undefined> = new (class extends BaseCodec<undefined> {
  readonly size = 0;
  readonly align = 1;
  encodeInto(): void {}
  decode(): undefined {
    return undefined;
  }
})();
