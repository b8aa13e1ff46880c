/**
 * Stack trace maps (BPF_MAP_TYPE_STACK_TRACE, Linux 4.6): bpf_get_stackid() stores a stack
 * under an id and returns the id; user space reads the stack back by id. A stack is max-depth
 * u64 instruction pointers, innermost first, zero after the last frame.
 */
import { TsbpfError } from '../errors.js';
import { HOST_LE } from '../sys/index.js';
import { u32 } from './codec.js';
import { MapFlag, type BpfMap } from './map.js';
import { walk } from './map-iter.js';
import type { CommonMapOptions } from './map-kinds.js';
import { createView, MapView } from './map-view.js';

/** PERF_MAX_STACK_DEPTH (include/uapi/linux/perf_event.h): the kernel's default depth limit. */
export const MAX_STACK_DEPTH = 127;

/** A frame of a stack recorded with BPF_F_STACK_BUILD_ID (struct bpf_stack_build_id). */
export interface BuildIdFrame {
  /** BPF_STACK_BUILD_ID_EMPTY (0), _VALID (1, buildId + offset) or _IP (2, ip only). */
  status: number;
  buildId: Uint8Array;
  /** The offset in the build-id's file (status 1), or the address (status 2). */
  offsetOrIp: bigint;
}

/** sizeof(struct bpf_stack_build_id): s32 status, u8 build_id[20], union { u64 offset; u64 ip; }. */
const BUILD_ID_FRAME = 32;

/**
 * A stack trace map.
 *
 * @example
 * using stacks = StackTraceMap.create({ maxEntries: 1024 });
 * // a program calls bpf_get_stackid(ctx, &stacks, 0) and reports the id
 * const frames = stacks.get(id); // bigint[] of kernel addresses, innermost first
 */
export class StackTraceMap extends MapView {
  constructor(map: BpfMap) {
    super(map, ['STACK_TRACE']);
    if (map.keySize !== 4) throw new TsbpfError(`map '${map.name}': stack trace keys are u32 ids, not ${map.keySize} bytes`);
  }

  /** `maxDepth` frames per stack (default 127); `buildIds` stores build-id + offset frames (BPF_F_STACK_BUILD_ID). */
  static create(o: CommonMapOptions & { maxEntries: number; maxDepth?: number; buildIds?: boolean }): StackTraceMap {
    const depth = o.maxDepth ?? MAX_STACK_DEPTH;
    const frame = o.buildIds ? BUILD_ID_FRAME : 8;
    const flags = (o.flags ?? 0) | (o.buildIds ? MapFlag.STACK_BUILD_ID : 0);
    return createView({ type: 'STACK_TRACE', keySize: 4, valueSize: depth * frame, maxEntries: o.maxEntries, flags, name: o.name }, (m) => new StackTraceMap(m));
  }

  /** Frames a stack can hold. */
  get maxDepth(): number {
    return this.map.valueSize / (this.map.flags & MapFlag.STACK_BUILD_ID ? BUILD_ID_FRAME : 8);
  }

  private read(id: number): Uint8Array | undefined {
    u32.encodeInto(id, this.map.keyBuffer);
    return this.map.lookupInPlace() ? this.map.valueBuffer : undefined;
  }

  /** The stack stored under `id` as instruction pointers, innermost first; undefined if none. */
  get(id: number): bigint[] | undefined {
    if (this.map.flags & MapFlag.STACK_BUILD_ID) throw new TsbpfError(`map '${this.map.name}' stores build-id frames: use getBuildIds()`);
    const raw = this.read(id);
    if (!raw) return undefined;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: bigint[] = [];
    for (let off = 0; off + 8 <= raw.byteLength; off += 8) {
      const ip = view.getBigUint64(off, HOST_LE);
      if (ip === 0n) break;
      out.push(ip);
    }
    return out;
  }

  /** The build-id frames stored under `id` (maps created with `buildIds`). */
  getBuildIds(id: number): BuildIdFrame[] | undefined {
    const raw = this.read(id);
    if (!raw) return undefined;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: BuildIdFrame[] = [];
    for (let off = 0; off + BUILD_ID_FRAME <= raw.byteLength; off += BUILD_ID_FRAME) {
      const status = view.getInt32(off, HOST_LE);
      if (status === 0) break;
      out.push({ status, buildId: raw.slice(off + 4, off + 24), offsetOrIp: view.getBigUint64(off + 24, HOST_LE) });
    }
    return out;
  }

  /** Forgets the stack under `id`, so the id can be reused. */
  delete(id: number): boolean {
    u32.encodeInto(id, this.map.keyBuffer);
    return this.map.deleteInPlace();
  }

  /** The ids of stored stacks. */
  *ids(): IterableIterator<number> {
    for (const [key] of walk(this.map, false)) yield u32.decode(key);
  }
}
