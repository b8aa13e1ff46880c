/**
 * Reading and writing kernel structs by field name, with layouts generated from the kernel's
 * BTF (src/uapi/layouts.ts). Pointer fields take the buffers they point to, and the struct
 * keeps them alive until the system call has returned.
 */
import { cString } from '../bytes/reader.js';
import { TsbpfError } from '../errors.js';
import type { FieldPlace } from '../uapi/layout-types.js';

/** A value a field can be set to: a number, a bigint, bytes to point to, or a string. */
export type FieldValue = number | bigint | Uint8Array | string;

const encoder = new TextEncoder();
/** Kernel structs are in the host's byte order. */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A struct's bytes over a layout. */
export class Struct<F extends string = string> {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** Buffers pointer fields refer to, by field: kept alive and shown by the explain mode. */
  readonly pointers = new Map<string, Uint8Array>();
  /**
   * Fields set by name: of the union members sharing their bytes, these are the ones the
   * command uses (MAP_GET_NEXT_KEY sets next_key, not value), so the explain mode shows them.
   */
  private readonly named = new Set<string>();

  constructor(
    readonly layoutName: string,
    private readonly fields: Readonly<Record<string, FieldPlace>>,
    size: number,
    private readonly addressOf: (view: ArrayBufferView) => bigint,
    /** Existing bytes to read or write in place (a fake kernel reading an attr). */
    bytes?: Uint8Array,
  ) {
    this.bytes = bytes ?? new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  private place(field: string): FieldPlace {
    const p = this.fields[field];
    if (!p) throw new TsbpfError(`${this.layoutName} has no field '${field}' on the kernel these layouts came from`);
    return p;
  }

  /**
   * Sets a field: integers and bigints as they are; a Uint8Array makes a pointer field point
   * at it; a string fills a char array (map_name) or, for a pointer field, points at a
   * NUL-terminated copy (license, pathname).
   */
  set(field: F, value: FieldValue): this {
    const [offset, size, shift, width] = this.place(field);
    this.named.add(field);
    if (value instanceof Uint8Array || (typeof value === 'string' && size === 8)) {
      const buf = typeof value === 'string' ? encoder.encode(value + '\0') : value;
      this.pointers.set(field, buf);
      this.view.setBigUint64(offset, buf.byteLength === 0 ? 0n : this.addressOf(buf), HOST_LE);
    } else if (typeof value === 'string') {
      const text = encoder.encode(value).subarray(0, size - 1);
      this.bytes.fill(0, offset, offset + size);
      this.bytes.set(text, offset);
    } else if (width !== undefined) {
      const mask = (1n << BigInt(width)) - 1n;
      const old = size === 8 ? this.view.getBigUint64(offset, HOST_LE) : BigInt(this.view.getUint32(offset, HOST_LE));
      const next = (old & ~(mask << BigInt(shift!))) | ((BigInt(value) & mask) << BigInt(shift!));
      if (size === 8) this.view.setBigUint64(offset, next, HOST_LE);
      else this.view.setUint32(offset, Number(next), HOST_LE);
    } else {
      write(this.view, offset, size, value);
    }
    return this;
  }

  /** Sets several fields. */
  assign(values: Partial<Record<F, FieldValue | undefined>>): this {
    for (const [k, v] of Object.entries(values)) if (v !== undefined) this.set(k as F, v as FieldValue);
    return this;
  }

  /** Reads an integer field (numbers up to 32 bits, bigints for 64). */
  get(field: F): number | bigint {
    const [offset, size, shift, width] = this.place(field);
    const raw = read(this.view, offset, size);
    if (width === undefined) return raw;
    return Number((BigInt(raw) >> BigInt(shift!)) & ((1n << BigInt(width)) - 1n));
  }

  /** Reads an integer field as a number (a 64-bit field must fit). */
  num(field: F): number {
    return Number(this.get(field));
  }

  /** Reads a char-array field as a string. */
  str(field: F): string {
    const [offset, size] = this.place(field);
    return cString(this.bytes.subarray(offset, offset + size));
  }

  /**
   * The fields that are not zero, for the explain mode. Of fields sharing bytes (union
   * members), those set by name are shown; where none was, the first of the same place.
   */
  nonZero(): Array<[string, number | bigint | string]> {
    const out: Array<[string, number | bigint | string]> = [];
    const seen = new Set<string>();
    const used: FieldPlace[] = [];
    for (const name of this.named) {
      const p = this.fields[name]!;
      if (p[3] === undefined) used.push(p);
    }
    for (const [name, [offset, size, , width]] of Object.entries(this.fields)) {
      if (width === undefined) {
        if (!this.named.has(name) && used.some(([o, s]) => o < offset + size && offset < o + s)) continue; // an alias of a field set by name
        const key = `${offset}:${size}:${name.includes('.') ? name.split('.')[0] : ''}`;
        if (seen.has(key) && !this.pointers.has(name)) continue; // union aliases
        seen.add(key);
      }
      if (size > 8) {
        const s = this.str(name as F);
        if (s) out.push([name, s]);
        continue;
      }
      const v = this.get(name as F);
      if (v !== 0 && v !== 0n) out.push([name, v]);
    }
    return out;
  }
}

function write(view: DataView, offset: number, size: number, value: number | bigint): void {
  switch (size) {
    case 1:
      view.setUint8(offset, Number(value) & 0xff);
      break;
    case 2:
      view.setUint16(offset, Number(value) & 0xffff, HOST_LE);
      break;
    case 4:
      view.setUint32(offset, Number(BigInt.asUintN(32, BigInt(value))), HOST_LE);
      break;
    case 8:
      view.setBigUint64(offset, BigInt.asUintN(64, BigInt(value)), HOST_LE);
      break;
    default:
      throw new TsbpfError(`cannot write an integer into a ${size}-byte field`);
  }
}

function read(view: DataView, offset: number, size: number): number | bigint {
  switch (size) {
    case 1:
      return view.getUint8(offset);
    case 2:
      return view.getUint16(offset, HOST_LE);
    case 4:
      return view.getUint32(offset, HOST_LE);
    default:
      return view.getBigUint64(offset, HOST_LE);
  }
}
