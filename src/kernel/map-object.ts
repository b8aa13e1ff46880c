/**
 * ObjectMap: a keyed map of a loaded object that still is the BpfMap underneath (byte-level
 * code keeps working) and also reads and writes its entries as JavaScript values, through
 * codecs built from the object's BTF for the map's key and value types. Collection.load makes
 * one for every keyed map, so `coll.maps.counts.lookup('bash')` needs no codec by hand; the
 * element operations are TypedMap's, which this delegates to.
 */
import type { Btf } from '../btf/index.js';
import type { MapSpec } from '../object/index.js';
import { CodecError } from './codec.js';
import type { BtfValue } from './codec-btf.js';
import { BpfMap, UpdateFlag } from './map.js';
import { TypedMap } from './map-typed.js';

/** Map types whose entries are keys and values user space reads and writes one by one. */
const KEYED = new Set<string>(['HASH', 'LRU_HASH', 'PERCPU_HASH', 'LRU_PERCPU_HASH', 'ARRAY', 'PERCPU_ARRAY', 'LPM_TRIE']);

/**
 * A map of a loaded object with typed element operations, named as the kernel side names them
 * (lookup, update, delete) plus iteration. Key and value types are the shapes the BTF codecs
 * give (see codec-btf.ts): integers up to 32 bits as numbers, 64-bit ones as bigints,
 * `char[N]` as strings, arrays as arrays, structs as objects; per-CPU values are arrays with
 * one element per possible CPU. A key or value of the wrong shape throws a CodecError whose
 * path names the map and the place (`map 'counts' key: 7 is not a string`).
 *
 * @example
 * await using obj = await load<typeof Syscount>(new URL('./syscount.bpf.ts', import.meta.url));
 * obj.maps.counts.lookup('bash'); // bigint | undefined
 * for (const [comm, n] of obj.maps.counts) console.log(comm, n);
 */
export class ObjectMap<K = BtfValue, V = BtfValue> extends BpfMap implements Iterable<[K, V]> {
  /** The full typed API (batches, size, clear, lookupAndDelete) over this map. */
  readonly typed: TypedMap<K, V>;

  constructor(map: BpfMap, btf: Btf, spec: MapSpec) {
    // The same fd: this object replaces `map`, which the caller drops.
    super(map.fd, { type: map.type, keySize: map.keySize, valueSize: map.valueSize, maxEntries: map.maxEntries, flags: map.flags, name: map.name });
    this.typed = TypedMap.fromBtf<K, V>(this, btf, spec.keyType, spec.valueType);
  }

  /** Runs `fn`, naming this map in a CodecError (which key or value of which map was wrong). */
  private named<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw e instanceof CodecError ? e.within(`map '${this.name}' `) : e;
    }
  }

  /** The value under `key`, or undefined (BPF_MAP_LOOKUP_ELEM). */
  lookup(key: K): V | undefined {
    return this.named(() => this.typed.get(key));
  }

  /** Stores `value` under `key` (BPF_MAP_UPDATE_ELEM); `flags` as in UpdateFlag (NOEXIST, EXIST). */
  update(key: K, value: V, flags: number = UpdateFlag.ANY): void {
    this.named(() => this.typed.set(key, value, flags));
  }

  /** Removes `key`; false if it was not there (BPF_MAP_DELETE_ELEM). */
  delete(key: K): boolean {
    return this.named(() => this.typed.delete(key));
  }

  /** Whether `key` is in the map. */
  has(key: K): boolean {
    return this.named(() => this.typed.has(key));
  }

  /** Every key (robust to concurrent deletes, see map-iter.ts). */
  keys(): IterableIterator<K> {
    return this.typed.keys();
  }

  /** Every entry. */
  entries(): IterableIterator<[K, V]> {
    return this.typed.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.typed.entries();
  }
}

/**
 * The map a collection exposes for `spec`: an ObjectMap for keyed maps of an object with BTF
 * (global data maps aside: their variables are the typed view), the BpfMap itself otherwise.
 */
export function objectMap(map: BpfMap, spec: MapSpec, btf: Btf | undefined): BpfMap {
  if (!btf || spec.data !== undefined || !KEYED.has(map.type)) return map;
  return new ObjectMap(map, btf, spec);
}
