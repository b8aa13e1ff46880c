/**
 * Hash maps: BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH. One model with two
 * switches: `perCpu` keeps one value slot per CPU, `lru` evicts the least recently used
 * element instead of failing with -E2BIG when the map is full. The kernel's LRU is
 * approximate (per-CPU free lists); this one is exact, which is what a unit test wants.
 */
import {
  badUpdateFlags,
  checkSpec,
  Errno,
  keyBytes,
  keyString,
  type MapModel,
  type MapSpec,
  MapSpecError,
  MapType,
  needSize,
  UpdateFlags,
} from './types.js';

interface Entry {
  key: Uint8Array;
  /** One value per CPU for per-CPU maps, else one value. */
  values: Uint8Array[];
  /** LRU maps: when the element was last used (a tick of the map's clock). */
  used: number;
}

/** Options of {@link HashMap}. */
export interface HashMapOptions {
  /** Number of CPUs of a per-CPU map (default 1; ignored otherwise). */
  cpus?: number;
}

/** A hash map model; see the module comment for the four kernel types it covers. */
export class HashMap implements MapModel {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** The value holds a struct bpf_spin_lock (BPF_F_LOCK updates allowed). */
  readonly spinLock: boolean;
  /** Value slots per element: the CPU count for per-CPU maps, else 1. */
  readonly slots: number;
  readonly perCpu: boolean;
  readonly lru: boolean;
  /** Elements in insertion order, which is the iteration order: using one does not move it. */
  private readonly entries = new Map<string, Entry>();
  /** LRU clock: ticks on every use of an element. */
  private tick = 0;

  constructor(spec: MapSpec, options: HashMapOptions = {}) {
    const types: number[] = [MapType.HASH, MapType.PERCPU_HASH, MapType.LRU_HASH, MapType.LRU_PERCPU_HASH];
    if (!types.includes(spec.type)) throw new MapSpecError(spec, 'not a hash map type');
    checkSpec(spec, {});
    this.type = spec.type;
    this.keySize = spec.keySize;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags ?? 0;
    this.name = spec.name ?? '';
    this.spinLock = (spec.spinLock ?? false) && spec.type === MapType.HASH;
    this.perCpu = spec.type === MapType.PERCPU_HASH || spec.type === MapType.LRU_PERCPU_HASH;
    this.lru = spec.type === MapType.LRU_HASH || spec.type === MapType.LRU_PERCPU_HASH;
    this.slots = this.perCpu ? Math.max(1, options.cpus ?? 1) : 1;
  }

  get size(): number {
    return this.entries.size;
  }

  private find(key: Uint8Array, touch: boolean): Entry | undefined {
    const k = keyString(key);
    const e = this.entries.get(k);
    // Recency is a timestamp, not the position in `entries`: reordering there would make a
    // nextKey walk that looks elements up skip some (the kernel's walk is not disturbed either).
    if (e && touch && this.lru) e.used = ++this.tick;
    return e;
  }

  lookup(key: Uint8Array, cpu = 0): Uint8Array | undefined {
    needSize(this, key, this.keySize, 'key');
    return this.find(key, true)?.values[this.slot(cpu)];
  }

  /** Every CPU's value of a per-CPU map (one element array otherwise), as user space sees it. */
  lookupAll(key: Uint8Array): Uint8Array[] | undefined {
    needSize(this, key, this.keySize, 'key');
    return this.find(key, false)?.values;
  }

  private slot(cpu: number): number {
    return this.perCpu ? Math.min(Math.max(0, cpu | 0), this.slots - 1) : 0;
  }

  /**
   * From a program (`cpu` given): a per-CPU map updates that CPU's slot, zeroing the others of
   * a new element. From user space (`cpu` undefined): every slot gets `value`.
   */
  update(key: Uint8Array, value: Uint8Array, flags = 0, cpu?: number): number {
    needSize(this, value, this.valueSize, 'value');
    const slots = Array.from({ length: this.slots }, (_, i) => (cpu === undefined || i === this.slot(cpu) ? value : undefined));
    return this.store(key, slots, flags);
  }

  /** User-space update of a per-CPU map with one value per CPU. */
  updateAll(key: Uint8Array, values: readonly Uint8Array[], flags = 0): number {
    if (values.length !== this.slots) throw new MapSpecError(this, `expected ${this.slots} values, got ${values.length}`);
    values.forEach((v) => needSize(this, v, this.valueSize, 'value'));
    return this.store(key, values, flags);
  }

  private store(key: Uint8Array, values: readonly (Uint8Array | undefined)[], flags: number): number {
    needSize(this, key, this.keySize, 'key');
    if (badUpdateFlags(flags, this.spinLock)) return -Errno.EINVAL;
    const f = flags & ~UpdateFlags.F_LOCK;
    const existing = this.find(key, true);
    if (existing) {
      if (f === UpdateFlags.NOEXIST) return -Errno.EEXIST;
      values.forEach((v, i) => {
        if (v) existing.values[i]!.set(v);
      });
      return 0;
    }
    if (f === UpdateFlags.EXIST) return -Errno.ENOENT;
    if (this.entries.size >= this.maxEntries) {
      if (!this.lru) return -Errno.E2BIG;
      let oldest: string | undefined;
      let least = Infinity;
      for (const [k, e] of this.entries) {
        if (e.used < least) {
          least = e.used;
          oldest = k;
        }
      }
      this.entries.delete(oldest!);
    }
    const entry: Entry = {
      key: key.slice(),
      values: values.map((v) => (v ? v.slice() : new Uint8Array(this.valueSize))),
      used: ++this.tick,
    };
    this.entries.set(keyString(key), entry);
    return 0;
  }

  delete(key: Uint8Array): number {
    needSize(this, key, this.keySize, 'key');
    return this.entries.delete(keyString(key)) ? 0 : -Errno.ENOENT;
  }

  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const keys = [...this.entries.keys()];
    if (key === undefined) return keys.length ? keyBytes(keys[0]!) : undefined;
    const at = keys.indexOf(keyString(key));
    // Like the kernel, a missing key restarts from the first one.
    const next = at < 0 ? keys[0] : keys[at + 1];
    return next === undefined ? undefined : keyBytes(next);
  }

  /** All elements as [key, value] pairs (the first CPU's value for per-CPU maps). */
  *entriesView(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const e of this.entries.values()) yield [e.key, e.values[0]!];
  }
}
