/**
 * TypedMap<K, V>: a keyed map with codecs for its keys and values, shaped like JavaScript's Map
 * (get, set, has, delete, keys, values, entries, size) plus the kernel's extras (update flags,
 * lookup-and-delete, batches). Encoding goes straight into the map's scratch buffers, so a get
 * allocates only the decoded value.
 */
import type { Btf } from '../btf/index.js';
import { TsbpfError } from '../errors.js';
import { rethrowWithin, type Codec } from './codec.js';
import type { BtfValue } from './codec-btf.js';
import { entryCodecs } from './map-btf.js';
import { UpdateFlag, type BpfMap, type MapTypeName } from './map.js';
import { MapSizeError } from './map-errors.js';
import { walk } from './map-iter.js';
import { MapView } from './map-view.js';

/** A codec whose size is not the map's key or value size. */
export class CodecSizeError extends MapSizeError {
  override name = 'CodecSizeError';
  constructor(mapName: string, what: 'key' | 'value', expected: number, actual: number, hint = '') {
    super(mapName, what, expected, actual);
    this.message = `map '${mapName}': the ${what} codec encodes ${actual} bytes, but the map's ${what}s are ${expected} bytes${hint}`;
  }
}

/** Types whose entries all exist (indexes 0..max_entries-1): size is max_entries. */
const ALWAYS_FULL = new Set<string>(['ARRAY', 'PERCPU_ARRAY']);

/**
 * A map with typed keys and values.
 *
 * @example
 * using raw = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 8, maxEntries: 64 });
 * const counts = new TypedMap(raw, u32, u64);
 * counts.set(1, 10n);
 * counts.get(1); // 10n
 * for (const [pid, n] of counts) console.log(pid, n);
 */
export class TypedMap<K, V> extends MapView implements Iterable<[K, V]> {
  constructor(
    map: BpfMap,
    /** Encodes keys (map.keySize bytes). */
    readonly keyCodec: Codec<K>,
    /** Encodes values (map.userValueSize bytes: per-CPU maps take a perCpu() codec). */
    readonly valueCodec: Codec<V>,
    types: readonly MapTypeName[] = [],
  ) {
    super(map, types);
    if (keyCodec.size !== map.keySize) throw new CodecSizeError(map.name, 'key', map.keySize, keyCodec.size);
    if (valueCodec.size !== map.userValueSize) {
      const hint = map.perCpu && valueCodec.size === map.valueSize ? ` (one per possible CPU: wrap the codec in perCpu())` : '';
      throw new CodecSizeError(map.name, 'value', map.userValueSize, valueCodec.size, hint);
    }
  }

  /**
   * A TypedMap whose codecs come from BTF: the map's key and value type ids in an object's BTF
   * (MapSpec.keyType / valueType). A missing key type (global data maps) reads as a u32 index,
   * a missing value type as bytes; per-CPU values become arrays.
   *
   * @example
   * const spec = readObject(bytes), s = spec.maps.find((m) => m.name === 'counts')!;
   * const counts = TypedMap.fromBtf<string, bigint>(map, spec.btf!, s.keyType, s.valueType);
   */
  static fromBtf<K = BtfValue, V = BtfValue>(map: BpfMap, btf: Btf, keyTypeId: number | undefined, valueTypeId: number | undefined): TypedMap<K, V> {
    const { key, value } = entryCodecs(btf, keyTypeId, valueTypeId, { keySize: map.keySize, valueSize: map.valueSize, perCpu: map.perCpu, indexKeys: true });
    return new TypedMap(map, key as Codec<unknown> as Codec<K>, value as Codec<unknown> as Codec<V>);
  }

  /** Encodes `key` into the map's key buffer. */
  protected putKey(key: K): void {
    this.encodeKey(this.keyCodec, key);
  }

  /** Encodes `value` into the map's value buffer. */
  protected putValue(value: V): void {
    this.encodeValue(this.valueCodec, value);
  }

  /** The value under `key`, or undefined (BPF_MAP_LOOKUP_ELEM). */
  get(key: K): V | undefined {
    this.putKey(key);
    return this.map.lookupInPlace() ? this.valueCodec.decode(this.map.valueBuffer) : undefined;
  }

  /**
   * Stores `value` under `key` (BPF_MAP_UPDATE_ELEM). `flags`: UpdateFlag.NOEXIST fails with
   * MapKeyExistsError if the key is there, EXIST with MapKeyNotFoundError if it is not; a new
   * key in a full hash map fails with MapFullError.
   */
  set(key: K, value: V, flags: number = UpdateFlag.ANY): this {
    this.putKey(key);
    this.putValue(value);
    this.map.updateInPlace(flags);
    return this;
  }

  /** Whether `key` is in the map. */
  has(key: K): boolean {
    this.putKey(key);
    return this.map.lookupInPlace();
  }

  /** Removes `key`; false if it was not there. Arrays cannot delete (their entries always exist). */
  delete(key: K): boolean {
    this.putKey(key);
    return this.map.deleteInPlace();
  }

  /** Reads and removes `key` in one system call (BPF_MAP_LOOKUP_AND_DELETE_ELEM, Linux 5.14 for hash maps). */
  lookupAndDelete(key: K): V | undefined {
    this.putKey(key);
    return this.map.lookupAndDeleteInPlace() ? this.valueCodec.decode(this.map.valueBuffer) : undefined;
  }

  /** Every key; robust to concurrent deletes (see map-iter.ts). */
  *keys(): IterableIterator<K> {
    for (const [key] of walk(this.map, false)) yield this.keyCodec.decode(key);
  }

  /** Every value. */
  *values(): IterableIterator<V> {
    for (const [, value] of walk(this.map, true)) yield this.valueCodec.decode(value!);
  }

  /** Every entry. */
  *entries(): IterableIterator<[K, V]> {
    for (const [key, value] of walk(this.map, true)) yield [this.keyCodec.decode(key), this.valueCodec.decode(value!)];
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * The number of entries: max_entries for arrays, otherwise counted by walking the keys (one
   * system call per key; a snapshot only if nothing else writes the map).
   */
  get size(): number {
    if (ALWAYS_FULL.has(this.map.type)) return this.map.maxEntries;
    let n = 0;
    for (const _ of walk(this.map, false)) n++;
    return n;
  }

  /** Deletes every entry (batched where the kernel can); returns how many were deleted. */
  clear(): number {
    if (ALWAYS_FULL.has(this.map.type)) throw new TsbpfError(`map '${this.map.name}' is an ${this.map.type}: its entries cannot be deleted`);
    const keys = [...walk(this.map, false)].map(([k]) => k);
    if (keys.length === 0) return 0;
    return this.map.batchDeleteBytes(Buffer.concat(keys));
  }

  /** Every entry, `chunk` per system call (BPF_MAP_LOOKUP_BATCH; per element where unsupported). */
  *batchEntries(chunk = 4096): IterableIterator<[K, V]> {
    for (const [key, value] of this.map.batchEntriesBytes(chunk)) yield [this.keyCodec.decode(key), this.valueCodec.decode(value)];
  }

  /**
   * Stores many entries in one system call (BPF_MAP_UPDATE_BATCH); returns how many. A failure
   * part way throws the typed error with `processed` set.
   *
   * @example
   * counts.batchUpdate([[1, 10n], [2, 20n]]);
   */
  batchUpdate(entries: Iterable<readonly [K, V]>, flags: number = UpdateFlag.ANY): number {
    const list = [...entries];
    const ks = this.map.keySize;
    const vs = this.map.userValueSize;
    const keys = new Uint8Array(list.length * ks);
    const values = new Uint8Array(list.length * vs);
    list.forEach(([k, v], i) => {
      try {
        this.keyCodec.encodeInto(k, keys.subarray(i * ks, (i + 1) * ks));
      } catch (e) {
        rethrowWithin(e, `entries[${i}].key`);
      }
      try {
        this.valueCodec.encodeInto(v, values.subarray(i * vs, (i + 1) * vs));
      } catch (e) {
        rethrowWithin(e, `entries[${i}].value`);
      }
    });
    return list.length === 0 ? 0 : this.map.batchUpdateBytes(keys, values, flags);
  }

  /** Deletes many keys in one system call (BPF_MAP_DELETE_BATCH); returns how many were there. */
  batchDelete(keys: Iterable<K>): number {
    const list = [...keys];
    if (list.length === 0) return 0;
    const ks = this.map.keySize;
    const packed = new Uint8Array(list.length * ks);
    list.forEach((k, i) => {
      try {
        this.keyCodec.encodeInto(k, packed.subarray(i * ks, (i + 1) * ks));
      } catch (e) {
        rethrowWithin(e, `keys[${i}]`);
      }
    });
    return this.map.batchDeleteBytes(packed);
  }

  /** Reads and deletes every entry, `chunk` per system call (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  batchLookupAndDelete(chunk = 4096): Array<[K, V]> {
    return this.map.drainBytes(chunk).map(([k, v]) => [this.keyCodec.decode(k), this.valueCodec.decode(v)]);
  }
}
