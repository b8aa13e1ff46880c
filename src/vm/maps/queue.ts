/**
 * BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO), as in kernel/bpf/queue_stack_maps.c:
 * no keys; push fails with -E2BIG when full unless BPF_EXIST is given, which drops the oldest
 * element to make room; pop and peek of an empty map fail with -ENOENT (here: undefined).
 */
import { checkSpec, Errno, type MapModel, type MapSpec, MapSpecError, MapType, needSize, UpdateFlags } from './types.js';

/** A queue or stack map model. */
export class QueueMap implements MapModel {
  readonly type: number;
  readonly keySize = 0;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** True for BPF_MAP_TYPE_STACK. */
  readonly lifo: boolean;
  /** Elements, oldest first. */
  private readonly items: Uint8Array[] = [];

  constructor(spec: MapSpec) {
    if (spec.type !== MapType.QUEUE && spec.type !== MapType.STACK) throw new MapSpecError(spec, 'not a queue or stack map type');
    checkSpec(spec, { key: 'zero' });
    this.type = spec.type;
    this.valueSize = spec.valueSize;
    this.maxEntries = spec.maxEntries;
    this.flags = spec.flags ?? 0;
    this.name = spec.name ?? '';
    this.lifo = spec.type === MapType.STACK;
  }

  get size(): number {
    return this.items.length;
  }

  push(value: Uint8Array, flags = 0): number {
    needSize(this, value, this.valueSize, 'value');
    if (flags !== UpdateFlags.ANY && flags !== UpdateFlags.EXIST) return -Errno.EINVAL;
    if (this.items.length >= this.maxEntries) {
      if (flags !== UpdateFlags.EXIST) return -Errno.E2BIG;
      this.items.shift();
    }
    this.items.push(value.slice());
    return 0;
  }

  pop(): Uint8Array | undefined {
    return this.lifo ? this.items.pop() : this.items.shift();
  }

  peek(): Uint8Array | undefined {
    return this.lifo ? this.items[this.items.length - 1] : this.items[0];
  }

  /** Queues and stacks have no lookup by key. */
  lookup(): Uint8Array | undefined {
    return undefined;
  }

  /** map_update_elem on a queue or stack pushes (the key is ignored). */
  update(_key: Uint8Array, value: Uint8Array, flags = 0): number {
    return this.push(value, flags);
  }

  delete(): number {
    return -Errno.EINVAL;
  }

  nextKey(): Uint8Array | undefined {
    return undefined;
  }

  /** The elements, oldest first (copies). */
  values(): Uint8Array[] {
    return this.items.map((v) => v.slice());
  }
}
