/**
 * Ring buffer maps (BPF_MAP_TYPE_RINGBUF, Linux 5.8): one buffer shared by all CPUs that
 * programs write with bpf_ringbuf_output/reserve/submit. This module creates and wraps them;
 * reading records is the events layer's job (src/events).
 */
import { TsbpfError } from '../errors.js';
import type { BpfMap } from './map.js';
import type { CommonMapOptions } from './map-kinds.js';
import { createView, MapView } from './map-view.js';

/** The page size the kernel sizes ring buffers by. */
const PAGE_SIZE = 4096;

/** Checks a ring buffer size: a power of two and a multiple of the page size (kernel/bpf/ringbuf.c). */
export function checkRingBufSize(size: number, name = ''): void {
  if (!Number.isInteger(size) || size < PAGE_SIZE || (size & (size - 1)) !== 0) {
    throw new TsbpfError(`ring buffer '${name}': size ${size} must be a power of two and at least the page size (${PAGE_SIZE})`);
  }
}

/**
 * A ring buffer map.
 *
 * @example
 * using events = RingBufMap.create({ size: 1 << 20, name: 'events' });
 */
export class RingBufMap extends MapView {
  constructor(map: BpfMap) {
    super(map, ['RINGBUF', 'USER_RINGBUF']);
  }

  /** `size` in bytes: a power of two, at least a page. `user`: a user ring buffer (user space writes, 6.1). */
  static create(o: CommonMapOptions & { size: number; user?: boolean }): RingBufMap {
    checkRingBufSize(o.size, o.name);
    return createView({ type: o.user ? 'USER_RINGBUF' : 'RINGBUF', keySize: 0, valueSize: 0, maxEntries: o.size, flags: o.flags, name: o.name }, (m) => new RingBufMap(m));
  }

  /** The data area's size in bytes (max_entries). */
  get size(): number {
    return this.map.maxEntries;
  }
}
