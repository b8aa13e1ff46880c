/**
 * The VM's address space. Every piece of memory a program can reach (its stack frames, the
 * context, map values, buffers handed out by helpers) is a Region; pointers are 64-bit values
 * whose upper 32 bits name the region and whose lower 32 bits are the offset into it. Upper
 * halves are even and start at 2, so 0 (null and every small integer) and the odd values
 * around each region are unmapped: running off either end of a region faults instead of
 * landing in a neighbour. Every access is bounds-checked and a bad one becomes a VmError.
 */
import { NotSupportedError } from '../errors.js';
import { VmError, VmErrorKind } from './errors.js';
import type { MapModel } from './maps/types.js';

/** What a region holds, for error messages and for helpers that need to tell them apart. */
export const RegionKind = {
  STACK: 'stack',
  CONTEXT: 'context',
  /** A map itself (what ld_imm64 with a map source yields); 0 accessible bytes. */
  MAP: 'map',
  MAP_VALUE: 'map value',
  /** Memory handed out by a helper (ring buffer records, ...). */
  HELPER: 'helper memory',
  /** Memory mapped by the user of the VM. */
  USER: 'user memory',
  /** The program's code (targets of ld_imm64 with BPF_PSEUDO_FUNC); 0 accessible bytes. */
  CODE: 'code',
} as const;
export type RegionKind = (typeof RegionKind)[keyof typeof RegionKind];

/** Options of {@link AddressSpace.map}. */
export interface MapOptions {
  kind?: RegionKind;
  /** Shown in error messages. */
  name?: string;
  /** False makes stores fault (default true). */
  writable?: boolean;
  /** Transient regions are unmapped by {@link AddressSpace.resetTransient} (each run). */
  transient?: boolean;
  /** The map a MAP region stands for. */
  map?: MapModel;
}

/** One mapped piece of memory. Field names are short-lived hot paths of the compiled code. */
export class Region {
  /** Accessible bytes. */
  bytes: Uint8Array;
  /** A DataView over `bytes`. */
  view: DataView;
  /** Accessible length (bytes.length; 0 for MAP and CODE regions). */
  length: number;
  writable: boolean;
  readonly kind: RegionKind;
  name: string;
  readonly transient: boolean;
  /** For MAP regions, the map. */
  readonly map: MapModel | undefined;
  /** Who handed the region out, for helpers that take it back (e.g. a ring buffer). */
  owner: unknown = undefined;

  constructor(
    /** The upper 32 bits of every address in the region. */
    readonly hi: number,
    bytes: Uint8Array,
    options: MapOptions,
  ) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
    this.writable = options.writable ?? true;
    this.kind = options.kind ?? RegionKind.USER;
    this.name = options.name ?? this.kind;
    this.transient = options.transient ?? false;
    this.map = options.map;
  }

  /** The address of the region's first byte. */
  get base(): bigint {
    return BigInt(this.hi) << 32n;
  }

  /** Points the region at other bytes (e.g. a new context for the next run). */
  set(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
  }
}

const MAX_REGION = 0xffffffff;

/** Splits a 64-bit address into the halves the region table uses. */
function halves(addr: bigint): [number, number] {
  const a = BigInt.asUintN(64, addr);
  return [Number(a >> 32n), Number(a & 0xffffffffn)];
}

/**
 * The regions of one VM, indexed by the upper half of their addresses, with bounds-checked
 * loads and stores for the interpreter and helpers. Compiled code reads `table` directly.
 */
export class AddressSpace {
  /** Region by upper address half; odd and unused indexes are holes. */
  readonly table: (Region | undefined)[] = [];
  /** Slot index of the instruction running now; helpers' faults are reported there. */
  pc = 0;
  /** Prints the instruction at a pc for error messages (installed by the VM). */
  describe: (pc: number) => string | undefined = () => undefined;
  private readonly free: number[] = [];
  private next = 2;
  private readonly transients: Region[] = [];
  private readonly byBytes = new Map<Uint8Array, Region>();

  /** Maps bytes at a fresh address and returns the region. */
  map(bytes: Uint8Array, options: MapOptions = {}): Region {
    if (bytes.byteLength > MAX_REGION) throw new NotSupportedError('regions of 4 GiB or more', 'a region offset is 32 bits wide');
    const hi = this.free.pop() ?? this.allocate();
    const region = new Region(hi, bytes, options);
    this.table[hi] = region;
    if (region.transient) this.transients.push(region);
    return region;
  }

  private allocate(): number {
    const hi = this.next;
    this.next += 2;
    return hi;
  }

  /** Removes a region; its addresses fault from now on. */
  unmap(region: Region): void {
    if (this.table[region.hi] !== region) return;
    this.table[region.hi] = undefined;
    if (this.byBytes.get(region.bytes) === region) this.byBytes.delete(region.bytes);
    this.free.push(region.hi);
  }

  /**
   * The address of `bytes` as a transient region, reusing the region already made for the same
   * array during this run, so that looking up the same map element twice gives equal pointers.
   * A persistent (`transient` false) region keeps its address across runs.
   */
  addressOf(bytes: Uint8Array, kind: RegionKind, name: string, writable = true, transient = true): bigint {
    let region = this.byBytes.get(bytes);
    if (region === undefined || this.table[region.hi] !== region) {
      region = this.map(bytes, { kind, name, writable, transient });
      this.byBytes.set(bytes, region);
    }
    return region.base;
  }

  /** Unmaps every transient region (done at the start of each run). */
  resetTransient(): void {
    for (const r of this.transients) this.unmap(r);
    this.transients.length = 0;
  }

  /** The region an address falls in (by its upper half), if any. */
  regionOf(addr: bigint): Region | undefined {
    return this.table[halves(addr)[0]];
  }

  /** Throws the VmError for a bad access of `size` bytes at hi:lo by the instruction at `pc`. */
  fault(pc: number, hi: number, lo: number, size: number, write: boolean): never {
    const address = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    const region = this.table[hi >>> 0];
    const what = `${write ? 'write' : 'read'} of ${size} byte${size === 1 ? '' : 's'} at 0x${address.toString(16)}`;
    const where = { pc, address, size, instruction: this.describe(pc) };
    if (region === undefined) {
      const why = hi === 0 ? ' (null or small pointer)' : '';
      throw new VmError(VmErrorKind.UNMAPPED, `invalid ${what}: no memory mapped there${why}`, where);
    }
    if (write && !region.writable && (lo >>> 0) + size <= region.length) {
      throw new VmError(VmErrorKind.READ_ONLY, `invalid ${what}: ${region.name} is read-only`, where);
    }
    throw new VmError(
      VmErrorKind.OUT_OF_BOUNDS,
      `out-of-bounds ${what}: offset ${lo >>> 0} in ${region.name} (${region.kind}, ${region.length} bytes)`,
      where,
    );
  }

  /** The region for an access, or a fault. `lo` is taken as unsigned. */
  check(hi: number, lo: number, size: number, write: boolean, pc: number): Region {
    const r = this.table[hi];
    if (r === undefined || (lo >>> 0) > r.length - size || (write && !r.writable)) this.fault(pc, hi, lo, size, write);
    return r;
  }

  /** Faults unless `size` bytes at `addr` can be read (or written, with `write`). */
  require(addr: bigint, size: number, write: boolean, pc = this.pc): void {
    const [hi, lo] = halves(addr);
    this.check(hi, lo, size, write, pc);
  }

  /** Loads `size` bytes (1, 2, 4 or 8), little-endian, zero-extended. */
  load(addr: bigint, size: number, pc = this.pc): bigint {
    const [hi, lo] = halves(addr);
    const r = this.check(hi, lo, size, false, pc);
    const v = r.view;
    switch (size) {
      case 1:
        return BigInt(v.getUint8(lo));
      case 2:
        return BigInt(v.getUint16(lo, true));
      case 4:
        return BigInt(v.getUint32(lo, true));
      default:
        return v.getBigUint64(lo, true);
    }
  }

  /** Stores the low `size` bytes of `value`, little-endian. */
  store(addr: bigint, size: number, value: bigint, pc = this.pc): void {
    const [hi, lo] = halves(addr);
    const r = this.check(hi, lo, size, true, pc);
    const v = r.view;
    switch (size) {
      case 1:
        v.setUint8(lo, Number(value & 0xffn));
        break;
      case 2:
        v.setUint16(lo, Number(value & 0xffffn), true);
        break;
      case 4:
        v.setUint32(lo, Number(value & 0xffffffffn), true);
        break;
      default:
        v.setBigUint64(lo, BigInt.asUintN(64, value), true);
    }
  }

  /**
   * The live bytes at [addr, addr+length), for helpers: writing to the result writes the
   * region. Faults (at the current pc) unless the whole range lies in one region.
   */
  slice(addr: bigint, length: number, write = false): Uint8Array {
    const [hi, lo] = halves(addr);
    if (length === 0) return new Uint8Array(0);
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_REGION) this.fault(this.pc, hi, lo, MAX_REGION, write);
    const r = this.check(hi, lo, length, write, this.pc);
    return r.bytes.subarray(lo, lo + length);
  }

  /** A copy of the bytes at [addr, addr+length). */
  read(addr: bigint, length: number): Uint8Array {
    return this.slice(addr, length).slice();
  }

  /** Copies `bytes` to `addr`. */
  write(addr: bigint, bytes: Uint8Array): void {
    this.slice(addr, bytes.byteLength, true).set(bytes);
  }

  /** True when [addr, addr+length) is readable (or writable) without faulting. */
  accessible(addr: bigint, length: number, write = false): boolean {
    const [hi, lo] = halves(addr);
    const r = this.table[hi];
    return r !== undefined && length >= 0 && lo + length <= r.length && (!write || r.writable);
  }

  /** Reads a NUL-terminated string of at most `max` bytes (without the NUL) as latin1. */
  readCString(addr: bigint, max: number): string {
    const [hi, lo] = halves(addr);
    const r = this.table[hi];
    if (r === undefined || lo >= r.length) this.fault(this.pc, hi, lo, 1, false);
    const end = Math.min(r.length, lo + max);
    let s = '';
    for (let i = lo; i < end; i++) {
      const c = r.bytes[i]!;
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
    if (end < lo + max) this.fault(this.pc, hi, end, 1, false);
    return s;
  }
}
