/** Map models for the VM, and a factory that picks one by map type. */
import { ArrayMap } from './array.js';
import { HashMap } from './hash.js';
import { QueueMap } from './queue.js';
import { RingBuffer } from './ringbuf.js';
import { type MapModel, type MapSpec, MapSpecError, MapType } from './types.js';

export * from './types.js';
export * from './hash.js';
export * from './array.js';
export * from './queue.js';
export * from './ringbuf.js';

/** Options of {@link createMap}. */
export interface CreateMapOptions {
  /** CPU count of per-CPU maps (default 1). */
  cpus?: number;
}

/**
 * Makes the model of a map from its definition: hash, per-CPU hash, LRU hash, LRU per-CPU
 * hash, array, per-CPU array, queue, stack or ring buffer. Throws MapSpecError for other types
 * or impossible sizes.
 *
 * @example
 * const counts = createMap({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 1024 });
 */
export function createMap(spec: MapSpec, options: CreateMapOptions = {}): MapModel {
  switch (spec.type) {
    case MapType.HASH:
    case MapType.PERCPU_HASH:
    case MapType.LRU_HASH:
    case MapType.LRU_PERCPU_HASH:
      return new HashMap(spec, options);
    case MapType.ARRAY:
    case MapType.PERCPU_ARRAY:
      return new ArrayMap(spec, options);
    case MapType.QUEUE:
    case MapType.STACK:
      return new QueueMap(spec);
    case MapType.RINGBUF:
      return new RingBuffer(spec);
    default:
      throw new MapSpecError(spec, 'this map type has no model in the VM');
  }
}
