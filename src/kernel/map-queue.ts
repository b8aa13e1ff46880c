/**
 * Keyless maps: queues (FIFO) and stacks (LIFO), Linux 4.20, and bloom filters, 5.16. They have
 * no keys; the kernel reuses the element commands with a NULL key: UPDATE pushes (or adds),
 * LOOKUP peeks (or tests membership), LOOKUP_AND_DELETE pops.
 */
import type { Codec } from './codec.js';
import { UpdateFlag, type BpfMap, type MapTypeName } from './map.js';
import { createView, MapView } from './map-view.js';
import type { CommonMapOptions } from './map-kinds.js';

/** Options of queues, stacks and bloom filters. */
export interface ValueMapOptions<V> extends CommonMapOptions {
  value: Codec<V>;
  maxEntries: number;
}

function build<T>(type: MapTypeName, o: ValueMapOptions<unknown>, extra: bigint | undefined, wrap: (map: BpfMap) => T): T {
  return createView({ type, keySize: 0, valueSize: o.value.size, maxEntries: o.maxEntries, flags: o.flags, name: o.name, numaNode: o.numaNode, mapExtra: extra }, wrap);
}

/** Push, pop and peek over a queue or stack map. */
abstract class PushPopMap<V> extends MapView {
  constructor(
    map: BpfMap,
    readonly valueCodec: Codec<V>,
    types: readonly MapTypeName[],
  ) {
    super(map, types);
  }

  /**
   * Adds a value (BPF_MAP_UPDATE_ELEM with no key). A full map fails with MapFullError, unless
   * `overwrite` is set: then the oldest value makes room (BPF_EXIST).
   */
  push(value: V, overwrite = false): void {
    this.encodeValue(this.valueCodec, value);
    this.map.updateInPlace(overwrite ? UpdateFlag.EXIST : UpdateFlag.ANY);
  }

  /** Removes and returns the next value, or undefined when empty (BPF_MAP_LOOKUP_AND_DELETE_ELEM). */
  pop(): V | undefined {
    return this.map.lookupAndDeleteInPlace() ? this.valueCodec.decode(this.map.valueBuffer) : undefined;
  }

  /** The next value without removing it, or undefined when empty (BPF_MAP_LOOKUP_ELEM). */
  peek(): V | undefined {
    return this.map.lookupInPlace() ? this.valueCodec.decode(this.map.valueBuffer) : undefined;
  }

  /** Pops until empty. */
  *drain(): IterableIterator<V> {
    for (let v = this.pop(); v !== undefined; v = this.pop()) yield v;
  }
}

/**
 * A FIFO queue (BPF_MAP_TYPE_QUEUE, Linux 4.20): programs push with bpf_map_push_elem, user
 * space pops in arrival order.
 *
 * @example
 * using q = QueueMap.create({ value: u32, maxEntries: 16 });
 * q.push(1); q.push(2);
 * q.pop(); // 1
 */
export class QueueMap<V> extends PushPopMap<V> {
  constructor(map: BpfMap, value: Codec<V>) {
    super(map, value, ['QUEUE']);
  }

  static create<V>(o: ValueMapOptions<V>): QueueMap<V> {
    return build('QUEUE', o, undefined, (m) => new QueueMap(m, o.value));
  }
}

/**
 * A LIFO stack (BPF_MAP_TYPE_STACK, Linux 4.20).
 *
 * @example
 * using s = StackMap.create({ value: u32, maxEntries: 16 });
 * s.push(1); s.push(2);
 * s.pop(); // 2
 */
export class StackMap<V> extends PushPopMap<V> {
  constructor(map: BpfMap, value: Codec<V>) {
    super(map, value, ['STACK']);
  }

  static create<V>(o: ValueMapOptions<V>): StackMap<V> {
    return build('STACK', o, undefined, (m) => new StackMap(m, o.value));
  }
}

/**
 * A bloom filter (BPF_MAP_TYPE_BLOOM_FILTER, Linux 5.16): `has` is false only for values never
 * added, and true for every added value (and, rarely, others). Values cannot be removed.
 *
 * @example
 * using seen = BloomFilter.create({ value: u32, maxEntries: 1000 });
 * seen.add(42);
 * seen.has(42); // true
 */
export class BloomFilter<V> extends MapView {
  constructor(
    map: BpfMap,
    readonly valueCodec: Codec<V>,
  ) {
    super(map, ['BLOOM_FILTER']);
  }

  /** `hashes`: hash functions per value, 1-15 (map_extra; the kernel's default is 5). */
  static create<V>(o: ValueMapOptions<V> & { hashes?: number }): BloomFilter<V> {
    return build('BLOOM_FILTER', o, o.hashes === undefined ? undefined : BigInt(o.hashes), (m) => new BloomFilter(m, o.value));
  }

  private put(value: V): void {
    this.encodeValue(this.valueCodec, value);
  }

  /** Adds a value (BPF_MAP_UPDATE_ELEM with no key). */
  add(value: V): void {
    this.put(value);
    this.map.updateInPlace(UpdateFlag.ANY);
  }

  /** Whether the value may have been added (BPF_MAP_LOOKUP_ELEM with no key: a peek). */
  has(value: V): boolean {
    this.put(value);
    return this.map.lookupInPlace();
  }
}
