/**
 * Global variables of an object: `const volatile` constants set before load (they live in
 * .rodata, which is frozen before the programs are verified, so the verifier sees them as
 * constants and prunes dead branches), and variables of .data/.bss/.rodata read and written
 * after load through their maps: the map memory itself when the map is BPF_F_MMAPABLE (5.5+),
 * BPF_MAP_LOOKUP_ELEM/UPDATE_ELEM otherwise. Values go through the BTF codec (codec-btf.ts), as
 * map entries do.
 */
import type { Btf } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import type { MapSpec, VariableSpec } from '../object/index.js';
import { Errno, syscalls, syscallError } from '../sys/index.js';
import { CodecError } from './codec.js';
import { btfCodec, BtfCodecError, patchBtfValue, type BtfValue } from './codec-btf.js';
import type { BpfMap } from './map.js';

/** A value that cannot be stored in a variable: wrong type, out of range, wrong size. */
export class VariableError extends TsbpfError {
  override name = 'VariableError';
  constructor(
    /** The variable, e.g. 'target_pid' (with the place in it: 'where.y', 'history[2]'). */
    readonly variable: string,
    readonly detail: string,
  ) {
    super(`variable '${variable}': ${detail}`);
  }
}

/**
 * Decodes a variable's bytes by its BTF type with the BTF codec (raw bytes for a type the
 * codec has no form for).
 *
 * @example
 * decodeBtfValue(btf, counterTypeId, new Uint8Array(8)); // 0n for a __u64
 */
export function decodeBtfValue(btf: Btf, typeId: number, bytes: Uint8Array): BtfValue {
  let codec;
  try {
    codec = btfCodec(btf, typeId);
  } catch (e) {
    if (e instanceof BtfCodecError) return bytes.slice();
    throw e;
  }
  return codec.decode(bytes);
}

/**
 * Stores `value` into `bytes`, a variable of BTF type `typeId` that holds its current value:
 * members an object leaves out keep theirs (see {@link patchBtfValue}). Throws a VariableError
 * naming `name` for a value of the wrong kind, out of range or of the wrong size.
 *
 * @example
 * encodeBtfValue(btf, typeId, 42, bytes, 'target_pid');
 */
export function encodeBtfValue(btf: Btf, typeId: number, value: BtfValue, bytes: Uint8Array, name: string): void {
  try {
    patchBtfValue(btf, typeId, value, bytes);
  } catch (e) {
    if (e instanceof CodecError) throw new VariableError(name + e.path, e.detail);
    if (e instanceof BtfCodecError) throw new VariableError(name, e.detail);
    throw e;
  }
}

/** Data maps that hold constants and variables, in the order a name is looked up. */
function dataMaps(maps: readonly MapSpec[]): MapSpec[] {
  const rank = (m: MapSpec): number => (m.section.startsWith('.rodata') ? 0 : m.section.startsWith('.data') ? 1 : 2);
  return maps.filter((m) => m.data !== undefined && m.section !== '.kconfig').sort((a, b) => rank(a) - rank(b));
}

/** Encodes a value into a variable's bytes (BTF-typed when the object has BTF). */
function encodeVariable(btf: Btf | undefined, v: VariableSpec, value: BtfValue, into: Uint8Array): void {
  if (btf && v.typeId !== undefined) {
    encodeBtfValue(btf, v.typeId, value, into, v.name);
    return;
  }
  // No BTF: only sizes are known; integers are little-endian of the variable's size.
  if (value instanceof Uint8Array) {
    if (value.byteLength !== v.size) throw new VariableError(v.name, `${value.byteLength} bytes given, the variable has ${v.size}`);
    into.set(value);
    return;
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    let n = BigInt.asUintN(v.size * 8, typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value));
    for (let i = 0; i < v.size; i++, n >>= 8n) into[i] = Number(n & 0xffn);
    return;
  }
  throw new VariableError(v.name, 'the object has no BTF: give integers or a Uint8Array of the variable\'s size');
}

/**
 * The initial contents of the data maps with `constants` applied (copies of `MapSpec.data`,
 * by map name). Throws a VariableError for an unknown name or a value that does not fit.
 *
 * @example
 * applyConstants(spec.maps, spec.btf, { target_pid: 1234 }).get('.rodata');
 */
export function applyConstants(maps: readonly MapSpec[], btf: Btf | undefined, constants: Readonly<Record<string, BtfValue>>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const candidates = dataMaps(maps);
  for (const m of candidates) out.set(m.name, new Uint8Array(m.data!));
  for (const [name, value] of Object.entries(constants)) {
    let found = false;
    for (const m of candidates) {
      const v = m.variables.find((x) => x.name === name && !x.extern);
      if (!v) continue;
      const data = out.get(m.name)!;
      if (v.offset + v.size > data.byteLength) throw new VariableError(name, `lies outside ${m.name}`);
      encodeVariable(btf, v, value, data.subarray(v.offset, v.offset + v.size));
      found = true;
      break;
    }
    if (!found) {
      const known = candidates.filter((m) => m.readOnly).flatMap((m) => m.variables.map((v) => v.name));
      throw new VariableError(name, `no such global in the object${known.length ? ` (its constants: ${known.join(', ')})` : ' (it has no .rodata variables)'}`);
    }
  }
  return out;
}

/** mmap constants (include/uapi/asm-generic/mman-common.h). */
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;

/** The value of a one-entry data map, read and written in place. */
export class DataMapStore {
  private mapping: ArrayBuffer | undefined;
  private tried = false;

  constructor(
    readonly map: BpfMap,
    readonly spec: MapSpec,
    /** Frozen maps (.rodata, .kconfig) can only be mapped read-only. */
    readonly frozen: boolean,
    private readonly mmapable: boolean,
  ) {}

  private view(): Uint8Array | undefined {
    if (!this.tried) {
      this.tried = true;
      if (this.mmapable && this.spec.valueSize > 0) {
        const r = syscalls().mmap(this.map.fd.value, this.spec.valueSize, this.frozen ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, 0);
        if (typeof r === 'number') {
          // Refused mappings fall back to lookups; anything else is a real error.
          if (![Errno.EPERM, Errno.EACCES, Errno.EINVAL, Errno.ENODEV].includes(-r)) throw syscallError('mmap', -r, `map '${this.spec.name}'`);
        } else this.mapping = r;
      }
    }
    return this.mapping ? new Uint8Array(this.mapping, 0, this.spec.valueSize) : undefined;
  }

  /** Whether reads and writes go through the map's memory (rather than lookups). */
  get mapped(): boolean {
    return this.view() !== undefined;
  }

  read(offset: number, size: number): Uint8Array {
    const mem = this.view();
    if (mem) return mem.slice(offset, offset + size);
    const value = this.map.lookupBytes(new Uint8Array(4));
    return (value ?? new Uint8Array(this.spec.valueSize)).slice(offset, offset + size);
  }

  write(offset: number, bytes: Uint8Array): void {
    const mem = this.view();
    if (mem && !this.frozen) {
      mem.set(bytes, offset);
      return;
    }
    // Not mapped: read-modify-write of the whole value (not atomic against the programs).
    const value = this.map.lookupBytes(new Uint8Array(4)) ?? new Uint8Array(this.spec.valueSize);
    value.set(bytes, offset);
    this.map.updateBytes(new Uint8Array(4), value);
  }

  /** Unmaps the memory (the map itself belongs to the collection). */
  close(): void {
    if (this.mapping) syscalls().munmap(this.mapping);
    this.mapping = undefined;
  }
}

/**
 * A global variable of a loaded object, typed by its BTF.
 *
 * @example
 * coll.variables.counter.get(); // 3n
 * coll.variables.enabled.set(true);
 */
export class Variable {
  constructor(
    private readonly store: DataMapStore,
    private readonly btf: Btf | undefined,
    readonly spec: VariableSpec,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  /** The data section the variable lives in ('.bss', '.rodata', ...). */
  get section(): string {
    return this.store.spec.section;
  }

  get size(): number {
    return this.spec.size;
  }

  /** .rodata and .kconfig are frozen: readable, not writable, after load. */
  get readOnly(): boolean {
    return this.store.frozen;
  }

  getBytes(): Uint8Array {
    return this.store.read(this.spec.offset, this.spec.size);
  }

  setBytes(bytes: Uint8Array): void {
    if (this.readOnly) throw new VariableError(this.name, `is in ${this.section}, which is frozen after load; set it before load with options.constants`);
    if (bytes.byteLength !== this.spec.size) throw new VariableError(this.name, `${bytes.byteLength} bytes given, the variable has ${this.spec.size}`);
    this.store.write(this.spec.offset, bytes);
  }

  /** The current value, decoded by its BTF type (raw bytes without BTF). */
  get(): BtfValue {
    const bytes = this.getBytes();
    return this.btf && this.spec.typeId !== undefined ? decodeBtfValue(this.btf, this.spec.typeId, bytes) : bytes;
  }

  /**
   * Stores a value (numbers, bigints, booleans, strings for char arrays, arrays, objects); an
   * object may name only some members, the others keep their values.
   */
  set(value: BtfValue): void {
    if (this.readOnly) throw new VariableError(this.name, `is in ${this.section}, which is frozen after load; set it before load with options.constants`);
    const bytes = this.getBytes();
    encodeVariable(this.btf, this.spec, value, bytes);
    this.store.write(this.spec.offset, bytes);
  }
}
