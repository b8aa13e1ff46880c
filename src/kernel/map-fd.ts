/**
 * Maps whose values are other kernel objects: prog arrays (tail calls), arrays and hashes of
 * maps, perf event arrays. User space stores an fd (a u32); the kernel keeps a reference to the
 * object, not the fd, and a lookup returns the object's id (kernel/bpf/arraymap.c
 * bpf_fd_array_map_lookup_elem), which {@link BpfMap.fromId} opens.
 */
import { TsbpfError } from '../errors.js';
import type { Fd } from '../sys/index.js';
import { u32, type Codec } from './codec.js';
import { BpfMap, MapFlag, type MapCreateOptions, type MapTypeName } from './map.js';
import { possibleCpus } from './map-cpus.js';
import { walk } from './map-iter.js';
import type { CommonMapOptions } from './map-kinds.js';
import { createView, MapView } from './map-view.js';

/** Anything with an fd: a Program, BpfMap or typed map, an Fd, or a raw fd number. */
export type FdSource = number | Fd | { readonly fd: Fd };

/** The fd number of `source`. */
export function fdOf(source: FdSource): number {
  if (typeof source === 'number') return source;
  return 'value' in source ? source.value : source.fd.value;
}

/** The shared part: set(key, object), get(key) -> id, delete, keys, entries. */
export abstract class FdValueMap<K> extends MapView {
  constructor(
    map: BpfMap,
    readonly keyCodec: Codec<K>,
    types: readonly MapTypeName[],
  ) {
    super(map, types);
    if (map.valueSize !== 4) throw new TsbpfError(`map '${map.name}': values of a ${map.type} are 4-byte fds, not ${map.valueSize} bytes`);
  }

  protected putKey(key: K): void {
    this.encodeKey(this.keyCodec, key);
  }

  /** Stores the object (its fd) under `key`; the map holds a reference from now on. */
  set(key: K, value: FdSource): this {
    this.putKey(key);
    u32.encodeInto(fdOf(value), this.map.valueBuffer);
    this.map.updateInPlace();
    return this;
  }

  /** The id of the object under `key`, or undefined for an empty slot. */
  get(key: K): number | undefined {
    this.putKey(key);
    return this.map.lookupInPlace() ? u32.decode(this.map.valueBuffer) : undefined;
  }

  /** Empties the slot; false if it was empty. */
  delete(key: K): boolean {
    this.putKey(key);
    return this.map.deleteInPlace();
  }

  /** Keys of the occupied slots (empty slots are skipped). */
  *keys(): IterableIterator<K> {
    for (const [key] of walk(this.map, false)) yield this.keyCodec.decode(key);
  }

  /** [key, id] of the occupied slots. */
  *entries(): IterableIterator<[K, number]> {
    for (const [key, value] of walk(this.map, true)) yield [this.keyCodec.decode(key), u32.decode(value!)];
  }

  /** The number of occupied slots. */
  get size(): number {
    let n = 0;
    for (const _ of walk(this.map, false)) n++;
    return n;
  }
}

/**
 * A prog array for tail calls (BPF_MAP_TYPE_PROG_ARRAY, Linux 4.2). The programs must be of the
 * type of the program that tail-calls into the array.
 *
 * @example
 * using jumps = ProgArray.create({ maxEntries: 4 });
 * jumps.set(0, program);
 * jumps.get(0); // the program's id
 */
export class ProgArray extends FdValueMap<number> {
  constructor(map: BpfMap) {
    super(map, u32, ['PROG_ARRAY']);
  }

  static create(o: CommonMapOptions & { maxEntries: number }): ProgArray {
    return createView({ type: 'PROG_ARRAY', keySize: 4, valueSize: 4, maxEntries: o.maxEntries, flags: o.flags, name: o.name }, (m) => new ProgArray(m));
  }
}

/** The inner maps' template: an existing map shaped like them, or its options. */
export type InnerMap = BpfMap | { readonly map: BpfMap } | MapCreateOptions;

/** Creates an outer map from a template, closing a template it created itself. */
function withTemplate<T>(inner: InnerMap, create: (innerFd: number) => T): T {
  if (inner instanceof BpfMap) return create(inner.fd.value);
  if ('map' in inner) return create(inner.map.fd.value);
  const template = BpfMap.create({ ...inner, name: inner.name ?? 'inner_tmpl' });
  try {
    return create(template.fd.value);
  } finally {
    template.close(); // the outer map keeps its own copy of the template's shape
  }
}

/** Options of maps of maps. */
export interface MapOfMapsOptions extends CommonMapOptions {
  /** A map shaped like the inner maps, or the shape itself. */
  inner: InnerMap;
  maxEntries: number;
  /** Allow inner maps of different max_entries (BPF_F_INNER_MAP, 5.10). */
  innerMapSizesVary?: boolean;
}

/**
 * An array of maps (BPF_MAP_TYPE_ARRAY_OF_MAPS, Linux 4.12): each slot holds a map shaped like
 * the template.
 *
 * @example
 * using outer = ArrayOfMaps.create({ inner: { type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 4 }, maxEntries: 2 });
 * outer.set(0, someArray);
 * using again = outer.getMap(0)!;
 */
export class ArrayOfMaps extends FdValueMap<number> {
  constructor(map: BpfMap) {
    super(map, u32, ['ARRAY_OF_MAPS']);
  }

  static create(o: MapOfMapsOptions): ArrayOfMaps {
    const flags = (o.flags ?? 0) | (o.innerMapSizesVary ? MapFlag.INNER_MAP : 0);
    return withTemplate(o.inner, (innerMapFd) => createView({ type: 'ARRAY_OF_MAPS', keySize: 4, valueSize: 4, maxEntries: o.maxEntries, flags, name: o.name, innerMapFd }, (m) => new ArrayOfMaps(m)));
  }

  /** Opens the map in slot `key` (the caller closes it), or undefined for an empty slot. */
  getMap(key: number): BpfMap | undefined {
    const id = this.get(key);
    return id === undefined ? undefined : BpfMap.fromId(id);
  }
}

/**
 * A hash of maps (BPF_MAP_TYPE_HASH_OF_MAPS, Linux 4.12).
 *
 * @example
 * using byCgroup = HashOfMaps.create({ key: u64, inner: template, maxEntries: 64 });
 */
export class HashOfMaps<K> extends FdValueMap<K> {
  constructor(map: BpfMap, key: Codec<K>) {
    super(map, key, ['HASH_OF_MAPS']);
  }

  static create<K>(o: MapOfMapsOptions & { key: Codec<K> }): HashOfMaps<K> {
    const flags = (o.flags ?? 0) | (o.innerMapSizesVary ? MapFlag.INNER_MAP : 0);
    return withTemplate(o.inner, (innerMapFd) => createView({ type: 'HASH_OF_MAPS', keySize: o.key.size, valueSize: 4, maxEntries: o.maxEntries, flags, name: o.name, innerMapFd }, (m) => new HashOfMaps(m, o.key)));
  }

  /** Opens the map under `key` (the caller closes it), or undefined. */
  getMap(key: K): BpfMap | undefined {
    const id = this.get(key);
    return id === undefined ? undefined : BpfMap.fromId(id);
  }
}

/**
 * A perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY, Linux 4.3): slot i holds a perf event fd,
 * usually the PERF_COUNT_SW_BPF_OUTPUT event of CPU i that bpf_perf_event_output writes to.
 * The kernel does not let user space read slots back (get throws).
 *
 * @example
 * using events = PerfEventArray.create(); // one slot per possible CPU
 * events.set(cpu, perfFd);
 */
export class PerfEventArray extends FdValueMap<number> {
  constructor(map: BpfMap) {
    super(map, u32, ['PERF_EVENT_ARRAY']);
  }

  static create(o: CommonMapOptions & { maxEntries?: number } = {}): PerfEventArray {
    return createView({ type: 'PERF_EVENT_ARRAY', keySize: 4, valueSize: 4, maxEntries: o.maxEntries ?? possibleCpus(), flags: o.flags, name: o.name }, (m) => new PerfEventArray(m));
  }
}
