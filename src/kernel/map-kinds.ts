/**
 * The keyed map types as classes: hash (and LRU hash), array, their per-CPU versions, and the
 * LPM trie. Each `create` picks the kernel type and flags and sizes the map from its codecs;
 * the constructor wraps an existing map of the right type (from a collection, pin or id).
 */
import { bytes, lpmKey, perCpu, u32, type Codec, type LpmKey } from './codec.js';
import { MapFlag, type BpfMap, type MapCreateOptions, type MapTypeName } from './map.js';
import { TypedMap } from './map-typed.js';
import { createView } from './map-view.js';

/** Options every `create` takes besides its codecs. */
export interface CommonMapOptions {
  /** Up to 15 characters of [A-Za-z0-9_.], shown by bpftool and in errors. */
  name?: string;
  /** Extra BPF_F_* flags (see MapFlag). */
  flags?: number;
  numaNode?: number;
  /** BTF ids for key and value (bpftool then pretty-prints the map). */
  btf?: MapCreateOptions['btf'];
}

/** Options of hash maps. */
export interface HashMapOptions<K, V> extends CommonMapOptions {
  key: Codec<K>;
  value: Codec<V>;
  maxEntries: number;
  /** Evict the least recently used entry when full instead of failing (BPF_MAP_TYPE_LRU_*HASH, 4.10). */
  lru?: boolean;
}

/** Options of array maps: keys are indexes 0..maxEntries-1. */
export interface ArrayMapOptions<V> extends CommonMapOptions {
  value: Codec<V>;
  maxEntries: number;
}

function common(o: CommonMapOptions): Pick<MapCreateOptions, 'name' | 'numaNode' | 'btf'> {
  return { name: o.name, numaNode: o.numaNode, btf: o.btf };
}

/**
 * A hash map (BPF_MAP_TYPE_HASH, Linux 3.19; LRU_HASH with `lru`, 4.10). Updates of a new key
 * into a full map fail with MapFullError unless it is an LRU map.
 *
 * @example
 * using counts = HashMap.create({ key: cstring(16), value: u64, maxEntries: 10240, name: 'counts' });
 * counts.set('bash', 1n);
 */
export class HashMap<K, V> extends TypedMap<K, V> {
  constructor(map: BpfMap, key: Codec<K>, value: Codec<V>) {
    super(map, key, value, ['HASH', 'LRU_HASH']);
  }

  static create<K, V>(o: HashMapOptions<K, V>): HashMap<K, V> {
    const type: MapTypeName = o.lru ? 'LRU_HASH' : 'HASH';
    return createView({ type, keySize: o.key.size, valueSize: o.value.size, maxEntries: o.maxEntries, flags: o.flags, ...common(o) }, (m) => new HashMap(m, o.key, o.value));
  }
}

/**
 * A per-CPU hash map (BPF_MAP_TYPE_PERCPU_HASH, 4.6; LRU_PERCPU_HASH with `lru`, 4.10): each
 * value is an array with one element per possible CPU.
 *
 * @example
 * using hits = PerCpuHashMap.create({ key: u32, value: u64, maxEntries: 128 });
 * hits.set(1, new Array(possibleCpus()).fill(0n));
 */
export class PerCpuHashMap<K, V> extends TypedMap<K, V[]> {
  constructor(map: BpfMap, key: Codec<K>, value: Codec<V>) {
    super(map, key, perCpu(value), ['PERCPU_HASH', 'LRU_PERCPU_HASH']);
  }

  static create<K, V>(o: HashMapOptions<K, V>): PerCpuHashMap<K, V> {
    const type: MapTypeName = o.lru ? 'LRU_PERCPU_HASH' : 'PERCPU_HASH';
    return createView({ type, keySize: o.key.size, valueSize: o.value.size, maxEntries: o.maxEntries, flags: o.flags, ...common(o) }, (m) => new PerCpuHashMap(m, o.key, o.value));
  }
}

/**
 * An array (BPF_MAP_TYPE_ARRAY, 3.19): every index below maxEntries exists, zero-filled at
 * creation; entries cannot be deleted. `mmapable` lets user space map it (BPF_F_MMAPABLE, 5.5).
 *
 * @example
 * using config = ArrayMap.create({ value: u32, maxEntries: 4 });
 * config.set(0, 42);
 */
export class ArrayMap<V> extends TypedMap<number, V> {
  constructor(map: BpfMap, value: Codec<V>) {
    super(map, u32, value, ['ARRAY']);
  }

  static create<V>(o: ArrayMapOptions<V> & { mmapable?: boolean }): ArrayMap<V> {
    const flags = (o.flags ?? 0) | (o.mmapable ? MapFlag.MMAPABLE : 0);
    return createView({ type: 'ARRAY', keySize: 4, valueSize: o.value.size, maxEntries: o.maxEntries, flags, ...common(o) }, (m) => new ArrayMap(m, o.value));
  }
}

/**
 * A per-CPU array (BPF_MAP_TYPE_PERCPU_ARRAY, 4.6): each value is an array with one element
 * per possible CPU.
 *
 * @example
 * using stats = PerCpuArrayMap.create({ value: u64, maxEntries: 1 });
 * const perCpuCounts = stats.get(0)!; // bigint[] of length possibleCpus()
 */
export class PerCpuArrayMap<V> extends TypedMap<number, V[]> {
  constructor(map: BpfMap, value: Codec<V>) {
    super(map, u32, perCpu(value), ['PERCPU_ARRAY']);
  }

  static create<V>(o: ArrayMapOptions<V>): PerCpuArrayMap<V> {
    return createView({ type: 'PERCPU_ARRAY', keySize: 4, valueSize: o.value.size, maxEntries: o.maxEntries, flags: o.flags, ...common(o) }, (m) => new PerCpuArrayMap(m, o.value));
  }
}

/** Options of LPM tries. */
export interface LpmTrieOptions<V, D> extends CommonMapOptions {
  /** The prefix data: a codec, or a byte count (4 for IPv4, 16 for IPv6) for raw bytes. */
  data: Codec<D> | number;
  value: Codec<V>;
  maxEntries: number;
}

/**
 * A longest-prefix-match trie (BPF_MAP_TYPE_LPM_TRIE, 4.11): keys are {prefixlen, data}, and a
 * lookup returns the value of the longest stored prefix that matches. Created with
 * BPF_F_NO_PREALLOC, which the kernel requires.
 *
 * @example
 * using routes = LpmTrie.create({ data: 4, value: u32, maxEntries: 1024 });
 * routes.set({ prefixlen: 8, data: Uint8Array.of(10, 0, 0, 0) }, 1);
 * routes.get({ prefixlen: 32, data: Uint8Array.of(10, 1, 2, 3) }); // 1
 */
export class LpmTrie<V, D = Uint8Array> extends TypedMap<LpmKey<D>, V> {
  constructor(map: BpfMap, data: Codec<D>, value: Codec<V>) {
    super(map, lpmKey(data), value, ['LPM_TRIE']);
  }

  static create<V, D = Uint8Array>(o: LpmTrieOptions<V, D>): LpmTrie<V, D> {
    const data = (typeof o.data === 'number' ? bytes(o.data) : o.data) as Codec<D>;
    const flags = (o.flags ?? 0) | MapFlag.NO_PREALLOC;
    return createView({ type: 'LPM_TRIE', keySize: 4 + data.size, valueSize: o.value.size, maxEntries: o.maxEntries, flags, ...common(o) }, (m) => new LpmTrie(m, data, o.value));
  }
}
