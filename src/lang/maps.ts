/**
 * Map declarations. Declare maps at the top level of a kernel module, one `const` each; the
 * variable's name is the map's name in the object (and in `collection.maps`):
 *
 *     export const counts = new HashMap<Comm, u64>({ maxEntries: 10240 });
 *
 * In the kernel the methods compile to helper calls (bpf_map_lookup_elem, ...); the compiler
 * inserts the NULL checks the verifier wants and rejects uses of a `lookup` result that were
 * not checked. In Node, constructing a map gives a descriptor (`kind`, `type`, options) and the
 * methods throw KernelOnlyError.
 */
import { kernelOnly } from './runtime.js';
import type { i64, u32, u64 } from './types.js';

/** Flags of `update` (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK from include/uapi/linux/bpf.h). */
export const UpdateFlags = { ANY: 0, NOEXIST: 1, EXIST: 2, LOCK: 4 } as const;
/** A flag of `update`. */
export type UpdateFlags = (typeof UpdateFlags)[keyof typeof UpdateFlags];
/**
 * The flags argument of `update` and `push`: an `UpdateFlags` member, or any unsigned value
 * (number or bigint), as C passes an integer constant or variable to the helper's `u64 flags`.
 */
export type MapFlags = UpdateFlags | u32 | u64;

/** Options every map takes. */
export interface MapOptions {
  /** BPF_F_* map_flags (e.g. BPF_F_NO_PREALLOC = 1). */
  flags?: number;
  /** Pin the map by name under the loader's pin path and reuse an existing pin (LIBBPF_PIN_BY_NAME). */
  pinning?: 'byName';
}

/** Options of maps with a capacity. */
export interface SizedMapOptions extends MapOptions {
  /** max_entries. */
  maxEntries: number;
}

/** What declaring a map gives in Node: its kind and options (no kernel object). */
export interface MapDescriptor {
  readonly kind: 'map';
  /**
   * Map type name as in `MapType` ('HASH', 'RINGBUF', ...): a literal type in each class, so
   * that user-side types can tell a PerCpuHashMap from a HashMap of the same key and value.
   */
  readonly type: string;
  readonly maxEntries: number;
  readonly flags: number;
}

abstract class MapBase implements MapDescriptor {
  readonly kind = 'map' as const;
  abstract readonly type: string;
  readonly maxEntries: number;
  readonly flags: number;
  readonly pinning: 'byName' | undefined;
  constructor(options: MapOptions & { maxEntries?: number; size?: number }) {
    this.maxEntries = options.maxEntries ?? options.size ?? 0;
    this.flags = options.flags ?? 0;
    this.pinning = options.pinning;
  }
  protected op(name: string): never {
    return kernelOnly(`${this.constructor.name}.${name}`);
  }
}

/** Key/value maps: lookup, update, delete, and an atomic increment for integer values. */
abstract class KeyValueMap<K, V> extends MapBase {
  constructor(options: SizedMapOptions) {
    super(options);
  }
  /**
   * The value stored under `key`, or undefined. For struct values it is a reference into the
   * map: writing its fields changes the map (`+=` and `-=` on u32/u64 fields are atomic).
   */
  lookup(_key: K): V | undefined {
    return this.op('lookup');
  }
  /** Stores `value` under `key` (bpf_map_update_elem); 0 or a negative errno. */
  update(_key: K, _value: V, _flags: MapFlags = UpdateFlags.ANY): i64 {
    return this.op('update');
  }
  /** Removes `key` (bpf_map_delete_elem); 0 or a negative errno. */
  delete(_key: K): i64 {
    return this.op('delete');
  }
  /**
   * Adds `by` (default 1) to the integer value under `key` atomically, inserting it when the key
   * is missing (the lookup, atomic add, insert-if-absent idiom).
   */
  increment(_key: K, _by?: V): void {
    this.op('increment');
  }
}

/** BPF_MAP_TYPE_HASH (Linux 3.19). */
export class HashMap<K, V> extends KeyValueMap<K, V> {
  readonly type = 'HASH' as const;
}
/** BPF_MAP_TYPE_LRU_HASH (Linux 4.10): evicts the least recently used entry when full. */
export class LruHashMap<K, V> extends KeyValueMap<K, V> {
  readonly type = 'LRU_HASH' as const;
}
/** BPF_MAP_TYPE_PERCPU_HASH (Linux 4.6): one value per CPU; the program sees its CPU's. */
export class PerCpuHashMap<K, V> extends KeyValueMap<K, V> {
  readonly type = 'PERCPU_HASH' as const;
}
/** BPF_MAP_TYPE_LRU_PERCPU_HASH (Linux 4.10). */
export class LruPerCpuHashMap<K, V> extends KeyValueMap<K, V> {
  readonly type = 'LRU_PERCPU_HASH' as const;
}
/** BPF_MAP_TYPE_ARRAY (Linux 3.19): u32 keys 0..maxEntries-1, values zeroed, never deleted. */
export class ArrayMap<V> extends KeyValueMap<u32, V> {
  readonly type = 'ARRAY' as const;
}
/** BPF_MAP_TYPE_PERCPU_ARRAY (Linux 4.6). */
export class PerCpuArrayMap<V> extends KeyValueMap<u32, V> {
  readonly type = 'PERCPU_ARRAY' as const;
}
/**
 * BPF_MAP_TYPE_LPM_TRIE (Linux 4.11): longest-prefix match. K is a struct whose first field is
 * `prefixlen: u32` followed by the data (e.g. `{ prefixlen: u32; addr: FixedArray<u8, 4> }`);
 * declare it with `flags: 1` (BPF_F_NO_PREALLOC, which the kernel requires).
 */
export class LpmTrie<K, V> extends KeyValueMap<K, V> {
  readonly type = 'LPM_TRIE' as const;
  constructor(options: SizedMapOptions) {
    super({ ...options, flags: options.flags ?? 1 });
  }
}

/**
 * BPF_MAP_TYPE_RINGBUF (Linux 5.8): records of T for user space, in order across CPUs.
 * `size` is the buffer size in bytes: a power of two and a multiple of the page size.
 */
export class RingBuf<T> extends MapBase {
  readonly type = 'RINGBUF' as const;
  constructor(options: { size: number } & MapOptions) {
    super(options);
  }
  /** Reserves room for a T (bpf_ringbuf_reserve); undefined when the buffer is full. Submit or discard it on every path. */
  reserve(): T | undefined {
    return this.op('reserve');
  }
  /** Publishes a reserved record (bpf_ringbuf_submit). */
  submit(_record: T): void {
    this.op('submit');
  }
  /** Drops a reserved record (bpf_ringbuf_discard). */
  discard(_record: T): void {
    this.op('discard');
  }
  /** Copies `value` into the buffer (bpf_ringbuf_output); 0 or a negative errno. */
  output(_value: T): i64 {
    return this.op('output');
  }
}

/** BPF_MAP_TYPE_PERF_EVENT_ARRAY (Linux 4.3): per-CPU perf buffers of T records. */
export class PerfEventArray<T> extends MapBase {
  readonly type = 'PERF_EVENT_ARRAY' as const;
  constructor(options: MapOptions = {}) {
    super(options);
  }
  /** Sends `value` to the current CPU's buffer (bpf_perf_event_output); 0 or a negative errno. */
  output(_ctx: unknown, _value: T): i64 {
    return this.op('output');
  }
}

/** BPF_MAP_TYPE_PROG_ARRAY (Linux 4.2): programs to tail-call by index. */
export class ProgArray extends MapBase {
  readonly type = 'PROG_ARRAY' as const;
  constructor(options: SizedMapOptions) {
    super(options);
  }
  /**
   * Jumps to the program at `index` (bpf_tail_call) and does not return; when the slot is empty
   * execution continues after the call.
   */
  tailCall(_ctx: unknown, _index: u32): void {
    this.op('tailCall');
  }
}

/** BPF_MAP_TYPE_STACK_TRACE (Linux 4.6): stacks of instruction pointers, by id. */
export class StackTrace extends MapBase {
  readonly type = 'STACK_TRACE' as const;
  readonly depth: number;
  constructor(options: SizedMapOptions & { depth?: number }) {
    super(options);
    this.depth = options.depth ?? 127;
  }
  /** Stores the current stack (bpf_get_stackid; flags BPF_F_USER_STACK = 256 etc.): its id, or a negative errno. */
  getStackId(_ctx: unknown, _flags: u64 | number = 0): i64 {
    return this.op('getStackId');
  }
}

/** Queue and Stack: values pushed at one end and popped from the oldest (Queue) or newest (Stack) end. */
abstract class PushPopMap<V> extends MapBase {
  constructor(options: SizedMapOptions) {
    super(options);
  }
  /** Adds a value (bpf_map_push_elem; flags BPF_EXIST = 2 overwrites the oldest when full); 0 or a negative errno. */
  push(_value: V, _flags: MapFlags = UpdateFlags.ANY): i64 {
    return this.op('push');
  }
  /** Removes and returns the next value (a Queue's oldest, a Stack's newest), or undefined when empty. */
  pop(): V | undefined {
    return this.op('pop');
  }
  /** The value `pop` would return next (a Queue's oldest, a Stack's newest), or undefined when empty. */
  peek(): V | undefined {
    return this.op('peek');
  }
}

/** BPF_MAP_TYPE_QUEUE (Linux 4.20): FIFO of V; pop and peek give the oldest value. */
export class Queue<V> extends PushPopMap<V> {
  readonly type = 'QUEUE' as const;
}

/** BPF_MAP_TYPE_STACK (Linux 4.20): LIFO of V; pop and peek give the newest value. */
export class Stack<V> extends PushPopMap<V> {
  readonly type = 'STACK' as const;
}

/** BPF_MAP_TYPE_BLOOM_FILTER (Linux 5.16): set membership with false positives, no deletes. */
export class BloomFilter<V> extends MapBase {
  readonly type = 'BLOOM_FILTER' as const;
  readonly hashes: number;
  constructor(options: SizedMapOptions & { hashes?: number }) {
    super(options);
    this.hashes = options.hashes ?? 0;
  }
  /** Adds a value (bpf_map_push_elem); 0 or a negative errno. */
  add(_value: V): i64 {
    return this.op('add');
  }
  /** Whether the value may be in the set (bpf_map_peek_elem returned 0). */
  has(_value: V): boolean {
    return this.op('has');
  }
}
