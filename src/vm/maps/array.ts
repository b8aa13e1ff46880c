/**
 * Array maps: BPF_MAP_TYPE_ARRAY and PERCPU_ARRAY. Keys are u32 indexes below max_entries;
 * every element always exists (zero-initialised), so BPF_NOEXIST fails with -EEXIST and
 * deleting fails with -EINVAL, as in kernel/bpf/arraymap.c. Elements of one CPU lie in one
 * buffer, each rounded up to 8 bytes like the kernel's elem_size.
 */
import { badUpdateFlags, checkSpec, Errno, type MapModel, type MapSpec, MapSpecError, MapType, needSize, UpdateFlags } from './types.js';

/** Options of {@link ArrayMap}. */
export interface ArrayMapOptions {
  /** Number of CPUs of a per-CPU array (default 1; ignored otherwise). */
  cpus?: number;
}

/** An array map model (plain or per-CPU). */
export class ArrayMap implements MapModel {
  readonly type: number;
  readonly keySize = 4;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** The value holds a struct bpf_spin_lock (BPF_F_LOCK updates allowed). */
  readonly spinLock: boolean;
  readonly perCpu: boolean;
  /** Value slots per element: the CPU count for per-CPU arrays, else 1. */
  readonly slots: number;
  /** Distance between elements in `buffers` (value size rounded up to 8). */
  readonly stride: number;
  /** One buffer per CPU (one for plain arrays) holding every element. */
  readonly buffers: Uint8Array[];
  /** Element views, made on first use so that each element has one stable Uint8Array. */
  private readonly views: (Uint8Array | undefined)[][];

  constructor(spec: MapSpec, options: ArrayMapOptions = {}) {
    if (spec.type !== MapType.ARRAY && spec.type !== MapType.PERCPU_ARRAY) throw new MapSpecError(spec, 'not an array map type');
    checkSpec(spec, { key: 4 });
    this.type = spec.type;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags ?? 0;
    this.name = spec.name ?? '';
    this.spinLock = (spec.spinLock ?? false) && spec.type === MapType.ARRAY;
    this.perCpu = spec.type === MapType.PERCPU_ARRAY;
    this.slots = this.perCpu ? Math.max(1, options.cpus ?? 1) : 1;
    this.stride = (spec.valueSize + 7) & ~7;
    this.buffers = Array.from({ length: this.slots }, () => new Uint8Array(this.stride * spec.maxEntries));
    this.views = Array.from({ length: this.slots }, () => []);
  }

  get size(): number {
    return this.maxEntries;
  }

  private index(key: Uint8Array): number {
    needSize(this, key, 4, 'key');
    return (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0;
  }

  /** The live value of element `index` on `cpu`. */
  element(index: number, cpu = 0): Uint8Array | undefined {
    if (!(index >= 0 && index < this.maxEntries)) return undefined;
    const slot = this.perCpu ? Math.min(Math.max(0, cpu | 0), this.slots - 1) : 0;
    const views = this.views[slot]!;
    let v = views[index];
    if (v === undefined) {
      const start = index * this.stride;
      v = this.buffers[slot]!.subarray(start, start + this.valueSize);
      views[index] = v;
    }
    return v;
  }

  lookup(key: Uint8Array, cpu = 0): Uint8Array | undefined {
    return this.element(this.index(key), cpu);
  }

  /** Every CPU's value of element `key` (one entry for plain arrays). */
  lookupAll(key: Uint8Array): Uint8Array[] | undefined {
    const i = this.index(key);
    if (i >= this.maxEntries) return undefined;
    return Array.from({ length: this.slots }, (_, cpu) => this.element(i, cpu)!);
  }

  /** From a program (`cpu` given) a per-CPU array updates that CPU's slot; from user space, all. */
  update(key: Uint8Array, value: Uint8Array, flags = 0, cpu?: number): number {
    needSize(this, value, this.valueSize, 'value');
    if (badUpdateFlags(flags, this.spinLock)) return -Errno.EINVAL;
    const i = this.index(key);
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if ((flags & ~UpdateFlags.F_LOCK) === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    for (let s = 0; s < this.slots; s++) {
      if (cpu === undefined || !this.perCpu || s === Math.min(Math.max(0, cpu | 0), this.slots - 1)) this.element(i, s)!.set(value);
    }
    return 0;
  }

  /** User-space update of a per-CPU array with one value per CPU. */
  updateAll(key: Uint8Array, values: readonly Uint8Array[], flags = 0): number {
    if (values.length !== this.slots) throw new MapSpecError(this, `expected ${this.slots} values, got ${values.length}`);
    const i = this.index(key);
    values.forEach((v) => needSize(this, v, this.valueSize, 'value'));
    if (badUpdateFlags(flags, this.spinLock)) return -Errno.EINVAL;
    if (i >= this.maxEntries) return -Errno.E2BIG;
    if ((flags & ~UpdateFlags.F_LOCK) === UpdateFlags.NOEXIST) return -Errno.EEXIST;
    values.forEach((v, s) => this.element(i, s)!.set(v));
    return 0;
  }

  delete(key: Uint8Array): number {
    this.index(key);
    return -Errno.EINVAL;
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const i = key === undefined ? -1 : this.index(key);
    const next = i >= this.maxEntries ? 0 : i + 1;
    if (next >= this.maxEntries) return undefined;
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, next, true);
    return out;
  }
}
