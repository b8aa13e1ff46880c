/**
 * A live BPF map in the kernel: created from a spec, opened from a pin or an id, addressed by
 * its fd, closed (or disposed) when no longer needed. This module holds the byte-level
 * operations every map type shares; typed keys and values (TypedMap and the per-type classes),
 * codecs, batches, per-CPU layout, iteration and pinning live in the map-*.ts modules beside it.
 *
 * Hot paths reuse one bpf_attr and one key/value scratch buffer per map, so a lookup costs one
 * copy in, one system call and one copy out. `keyBuffer`, `valueBuffer` and the `*InPlace`
 * methods expose that path for callers who want no allocation at all.
 */
import { NotSupportedError, TsbpfError } from '../errors.js';
import { bpf, bpfAttr, ENOTSUPP, Errno, explaining, Fd, HOST_LE, nativeSyscalls, newAttr, syscalls, type AttrFields, type KnownCommand, type Struct, type Syscalls } from '../sys/index.js';
import { BpfCmd, MapType } from '../uapi/enums.js';
import { BPF_ATTR } from '../uapi/layouts.js';
import { BatchCursor, batchEntries, deleteBatch, drainBatch, lookupBatch, updateBatch } from './map-batch.js';
import { PER_CPU_TYPES, perCpuStride, possibleCpus } from './map-cpus.js';
import { MapClosedError, mapError, MapSizeError } from './map-errors.js';
import { mapFdById, readMapInfo, type MapInfo, type MapTypeName } from './map-info.js';
import { bpfObjectKind } from './obj-info.js';
import { walk } from './map-iter.js';
import { openPinnedFd, pinFd, unpinPath, type OpenPinOptions } from './pin.js';

export type { MapTypeName } from './map-info.js';

/** What BPF_MAP_CREATE needs. */
export interface MapCreateOptions {
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_* map flags (see {@link MapFlag}). */
  flags?: number;
  /**
   * Up to 15 characters (BPF_OBJ_NAME_LEN - 1) of [A-Za-z0-9_.]; the kernel refuses other
   * characters, so they are dropped from the name it is given, and longer names are cut.
   */
  name?: string;
  /** For maps of maps: an fd of a map shaped like the inner maps. */
  innerMapFd?: number;
  numaNode?: number;
  /** Type-specific: the number of hash functions of a bloom filter (1-15, default 5). */
  mapExtra?: bigint;
  /** BTF describing key and value (needed by spin locks, timers, kptrs; nice for bpftool). */
  btf?: { fd: number; keyTypeId: number; valueTypeId: number };
}

/** update flags (include/uapi/linux/bpf.h): BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK. */
export const UpdateFlag = { ANY: 0, NOEXIST: 1, EXIST: 2, LOCK: 4 } as const;

/** BPF_F_* flags of BPF_MAP_CREATE (the anonymous enum in include/uapi/linux/bpf.h). */
export const MapFlag = {
  NO_PREALLOC: 1 << 0,
  NO_COMMON_LRU: 1 << 1,
  NUMA_NODE: 1 << 2,
  /** User space may only read the map (BPF_F_RDONLY). */
  RDONLY: 1 << 3,
  WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5,
  ZERO_SEED: 1 << 6,
  /** Programs may only read the map (.rodata). */
  RDONLY_PROG: 1 << 7,
  WRONLY_PROG: 1 << 8,
  CLONE: 1 << 9,
  MMAPABLE: 1 << 10,
  PRESERVE_ELEMS: 1 << 11,
  INNER_MAP: 1 << 12,
  LINK: 1 << 13,
  PATH_FD: 1 << 14,
  VTYPE_BTF_OBJ_FD: 1 << 15,
  TOKEN_FD: 1 << 16,
  SEGV_ON_FAULT: 1 << 17,
  NO_USER_CONV: 1 << 18,
} as const;

const EMPTY = new Uint8Array(0);
const ALL = { allow: 'all' } as const;
const KEY_OFF = BPF_ATTR.map_elem.key[0];
const FLAGS_OFF = BPF_ATTR.map_elem.flags[0];

/** Writes a u64 that fits a double without making a BigInt. */
function setU64(view: DataView, off: number, n: number): void {
  const lo = n >>> 0;
  const hi = Math.floor(n / 0x1_0000_0000) >>> 0;
  view.setUint32(off + (HOST_LE ? 0 : 4), lo, HOST_LE);
  view.setUint32(off + (HOST_LE ? 4 : 0), hi, HOST_LE);
}

/** Copies small keys and values with a loop: cheaper than TypedArray.set for a few bytes. */
function copyInto(dst: Uint8Array, src: Uint8Array): void {
  const n = src.length;
  if (n > 32) {
    dst.set(src);
    return;
  }
  for (let i = 0; i < n; i++) dst[i] = src[i]!;
}

/** The reusable attrs and scratch buffers of one map, built for one Syscalls implementation. */
class HotPath {
  readonly sys: Syscalls;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly cursor: Uint8Array;
  readonly next: Uint8Array;
  /** map_elem attr: key -> key, value -> value. */
  readonly elem: Struct<AttrFields<'MAP_LOOKUP_ELEM'>>;
  readonly elemView: DataView;
  /**
   * map_elem attr with only map_fd and key: the kernel checks that fields after a command's
   * last one are zero (CHECK_ATTR), and DELETE's last field is key.
   */
  readonly del: Struct<AttrFields<'MAP_DELETE_ELEM'>>;
  /** map_elem attr: key -> cursor (or NULL for the first key), next_key -> next. */
  readonly walk: Struct<AttrFields<'MAP_GET_NEXT_KEY'>>;
  readonly walkView: DataView;
  readonly delView: DataView;
  readonly cursorAddress: bigint;
  /**
   * Whether calls may go to the addon with a DataView attr: the addon reads a DataView's length
   * directly, while for a Uint8Array it looks up BYTES_PER_ELEMENT by name, which cost ~400 ns
   * per call here, half of a whole hash lookup. Only for the real addon (fakes take Uint8Array).
   */
  readonly direct: boolean;

  constructor(fd: number, keySize: number, valueSize: number) {
    this.sys = syscalls();
    let native: Syscalls | undefined;
    try {
      native = nativeSyscalls();
    } catch {
      native = undefined;
    }
    this.direct = this.sys === native;
    this.key = new Uint8Array(keySize);
    this.value = new Uint8Array(valueSize);
    this.cursor = new Uint8Array(keySize);
    this.next = new Uint8Array(keySize);
    // Pointers are set once: the scratch buffers never move, so later calls only copy bytes.
    this.elem = newAttr('MAP_LOOKUP_ELEM').assign({ map_fd: fd, key: this.key, value: this.value });
    this.elemView = new DataView(this.elem.bytes.buffer, this.elem.bytes.byteOffset, this.elem.bytes.byteLength);
    this.del = newAttr('MAP_DELETE_ELEM').assign({ map_fd: fd, key: this.key });
    this.delView = new DataView(this.del.bytes.buffer, this.del.bytes.byteOffset, this.del.bytes.byteLength);
    this.walk = newAttr('MAP_GET_NEXT_KEY').assign({ map_fd: fd, key: this.cursor, next_key: this.next });
    this.walkView = new DataView(this.walk.bytes.buffer, this.walk.bytes.byteOffset, this.walk.bytes.byteLength);
    this.cursorAddress = this.walk.get('key') as bigint;
  }
}

/**
 * bpf(cmd, attr) on a hot path: straight to the addon with the attr's DataView, or through
 * bpfAttr (which also writes the explain mode's line) when explaining or on a fake kernel.
 */
function hotCall(h: HotPath, cmd: KnownCommand, attr: Struct, view: DataView): number {
  if (h.direct && !explaining()) return h.sys.bpf(BpfCmd[cmd], view as unknown as Uint8Array);
  return bpfAttr(cmd, attr, ALL).ret;
}

/**
 * Types that can delete but may lack BPF_MAP_LOOKUP_AND_DELETE_ELEM (hash maps before Linux
 * 5.14, LPM tries and hashes of maps still): a lookup followed by a delete stands in.
 */
const LOOKUP_THEN_DELETE = new Set(['HASH', 'PERCPU_HASH', 'LRU_HASH', 'LRU_PERCPU_HASH', 'LPM_TRIE', 'HASH_OF_MAPS']);

/** Keeps only the characters the kernel accepts in object names (bpf_obj_name_cpy). */
function kernelName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '').slice(0, 15);
}

/** A BPF map. */
export class BpfMap implements Disposable {
  readonly fd: Fd;
  readonly type: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** Whether values are per CPU (PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH, PERCPU_CGROUP_STORAGE). */
  readonly perCpu: boolean;
  /**
   * Bytes of a value as user space reads and writes it: valueSize, or for per-CPU maps
   * valueSize rounded up to 8 times the number of possible CPUs.
   */
  readonly userValueSize: number;
  private hot: HotPath | undefined;
  private pinned: string | undefined;

  protected constructor(fd: Fd, options: MapCreateOptions) {
    this.fd = fd;
    this.type = options.type;
    this.keySize = options.keySize;
    this.valueSize = options.valueSize;
    this.maxEntries = options.maxEntries;
    this.flags = options.flags ?? 0;
    this.name = options.name ?? '';
    this.perCpu = PER_CPU_TYPES.has(options.type);
    this.userValueSize = this.perCpu ? perCpuStride(options.valueSize) * possibleCpus() : options.valueSize;
  }

  /**
   * Creates a map (BPF_MAP_CREATE). Throws a SyscallError naming the map on failure.
   *
   * @example
   * using counts = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 8, maxEntries: 1024, name: 'counts' });
   */
  static create(options: MapCreateOptions): BpfMap {
    const type = MapType[options.type];
    if (type === undefined) throw new NotSupportedError(`map type '${options.type}'`, 'unknown to the kernel tsbpf was generated from');
    const { ret } = bpf(
      'MAP_CREATE',
      {
        map_type: type,
        key_size: options.keySize,
        value_size: options.valueSize,
        max_entries: options.maxEntries,
        map_flags: options.flags ?? 0,
        map_name: kernelName(options.name ?? ''),
        inner_map_fd: options.innerMapFd,
        numa_node: options.numaNode,
        map_extra: options.mapExtra,
        btf_fd: options.btf?.fd,
        btf_key_type_id: options.btf?.keyTypeId,
        btf_value_type_id: options.btf?.valueTypeId,
      },
      { subject: `map '${options.name ?? ''}' (${options.type}, key ${options.keySize}B, value ${options.valueSize}B, max_entries ${options.maxEntries})` },
    );
    return new BpfMap(new Fd(ret), options);
  }

  /**
   * Wraps an fd the caller owns from now on (from a pin, an id, or another process). Without
   * `options` the map's shape is read from the kernel (BPF_OBJ_GET_INFO_BY_FD).
   */
  static fromFd(fd: Fd, options?: MapCreateOptions): BpfMap {
    if (options) return new BpfMap(fd, options);
    const kind = bpfObjectKind(fd.value);
    if (kind !== 'map' && kind !== 'unknown') {
      fd.close();
      throw new TsbpfError(`the fd refers to a BPF ${kind}, not a map`);
    }
    let info: MapInfo;
    try {
      info = readMapInfo(fd.value);
    } catch (e) {
      fd.close();
      throw e;
    }
    if (info.type === undefined) {
      fd.close();
      throw new NotSupportedError(`map type ${info.typeId}`, `map '${info.name}' (id ${info.id}) has a type newer than tsbpf's tables`);
    }
    return new BpfMap(fd, { type: info.type, keySize: info.keySize, valueSize: info.valueSize, maxEntries: info.maxEntries, flags: info.flags, name: info.name });
  }

  /**
   * Opens a map by its id (BPF_MAP_GET_FD_BY_ID), as bpftool shows them.
   *
   * @example
   * for (const id of mapIds()) { using m = BpfMap.fromId(id); console.log(m.name); }
   */
  static fromId(id: number): BpfMap {
    return BpfMap.fromFd(mapFdById(id));
  }

  /**
   * Opens a pinned map (BPF_OBJ_GET). Throws PinNotFoundError when nothing is pinned there,
   * BpffsError when the path is not on bpffs, and an error when the pin is not a map.
   *
   * @example
   * using counts = BpfMap.fromPin('/sys/fs/bpf/myapp/counts');
   */
  static fromPin(path: string, options: OpenPinOptions = {}): BpfMap {
    const map = BpfMap.fromFd(openPinnedFd(path, options));
    map.pinned = path;
    return map;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.fd.closed;
  }

  /** The path this map was pinned to (or opened from) by this object, if any. */
  get pinnedPath(): string | undefined {
    return this.pinned;
  }

  /** The fd number for an operation; throws MapClosedError once closed. */
  checkOpen(op: string): number {
    if (this.fd.closed) throw new MapClosedError(this.name, op);
    return this.fd.value;
  }

  private hotPath(op: string): HotPath {
    if (this.fd.closed) throw new MapClosedError(this.name, op);
    const h = this.hot;
    if (h !== undefined && h.sys === syscalls()) return h;
    return (this.hot = new HotPath(this.fd.value, this.keySize, this.userValueSize));
  }

  private check(what: 'key' | 'value', bytes: Uint8Array, size: number): void {
    if (bytes.byteLength !== size) throw new MapSizeError(this.name, what, size, bytes.byteLength);
  }

  private fail(op: string, errno: number, flags = 0): Error {
    return mapError(op, errno, this, flags);
  }

  // ---- zero-copy operations on the scratch buffers ----

  /**
   * The key the `*InPlace` operations use (keySize bytes). Valid until the next operation on
   * this map; fill it, then call an `*InPlace` method.
   */
  get keyBuffer(): Uint8Array {
    return this.hotPath('keyBuffer').key;
  }

  /** The value the `*InPlace` operations read into or write from (userValueSize bytes). */
  get valueBuffer(): Uint8Array {
    return this.hotPath('valueBuffer').value;
  }

  /**
   * Looks up `keyBuffer` into `valueBuffer` (BPF_MAP_LOOKUP_ELEM); false when the key is absent.
   *
   * @example
   * new DataView(m.keyBuffer.buffer).setUint32(0, 42, true);
   * if (m.lookupInPlace()) console.log(new DataView(m.valueBuffer.buffer).getBigUint64(0, true));
   */
  lookupInPlace(flags = 0): boolean {
    const h = this.hotPath('lookup');
    setU64(h.elemView, FLAGS_OFF, flags);
    const ret = hotCall(h, 'MAP_LOOKUP_ELEM', h.elem, h.elemView);
    if (ret === 0) return true;
    if (ret === -Errno.ENOENT) return false;
    throw this.fail('BPF_MAP_LOOKUP_ELEM', -ret);
  }

  /** Stores `valueBuffer` under `keyBuffer` (BPF_MAP_UPDATE_ELEM) with {@link UpdateFlag} flags. */
  updateInPlace(flags = 0): void {
    const h = this.hotPath('update');
    setU64(h.elemView, FLAGS_OFF, flags);
    const ret = hotCall(h, 'MAP_UPDATE_ELEM', h.elem, h.elemView);
    if (ret < 0) throw this.fail('BPF_MAP_UPDATE_ELEM', -ret, flags);
  }

  /** Deletes `keyBuffer` (BPF_MAP_DELETE_ELEM); false when it was not there. */
  deleteInPlace(): boolean {
    const h = this.hotPath('delete');
    const ret = hotCall(h, 'MAP_DELETE_ELEM', h.del, h.delView);
    if (ret === 0) return true;
    if (ret === -Errno.ENOENT) return false;
    throw this.fail('BPF_MAP_DELETE_ELEM', -ret);
  }

  /**
   * Reads `keyBuffer`'s value into `valueBuffer` and deletes the entry in one step
   * (BPF_MAP_LOOKUP_AND_DELETE_ELEM): a pop for queues and stacks (no key). False when absent.
   * Where the kernel lacks it (hash maps before 5.14, LPM tries) a lookup and a delete stand in.
   */
  lookupAndDeleteInPlace(flags = 0): boolean {
    const h = this.hotPath('lookupAndDelete');
    setU64(h.elemView, FLAGS_OFF, flags);
    const ret = hotCall(h, 'MAP_LOOKUP_AND_DELETE_ELEM', h.elem, h.elemView);
    if (ret === 0) return true;
    if (ret === -Errno.ENOENT) return false;
    if ((ret === -ENOTSUPP || ret === -Errno.EINVAL) && LOOKUP_THEN_DELETE.has(this.type) && flags === 0) {
      if (!this.lookupInPlace()) return false;
      this.deleteInPlace(); // gone already is fine: the value read is the last one it had
      return true;
    }
    throw this.fail('BPF_MAP_LOOKUP_AND_DELETE_ELEM', -ret);
  }

  // ---- byte-level operations ----

  /**
   * The value under `key`, or undefined (BPF_MAP_LOOKUP_ELEM). The value has userValueSize
   * bytes (per-CPU maps: one 8-byte-aligned slot per possible CPU). `valueBytes` is kept for
   * callers that size the buffer themselves.
   */
  lookupBytes(key: Uint8Array, valueBytes = this.userValueSize, flags = 0): Uint8Array | undefined {
    this.check('key', key, this.keySize);
    if (valueBytes !== this.userValueSize) {
      const value = new Uint8Array(valueBytes);
      const { ret } = bpf('MAP_LOOKUP_ELEM', { map_fd: this.checkOpen('lookup'), key: key.byteLength ? key : 0n, value, flags }, ALL);
      if (ret === 0) return value;
      if (ret === -Errno.ENOENT) return undefined;
      throw this.fail('BPF_MAP_LOOKUP_ELEM', -ret);
    }
    const h = this.hotPath('lookup');
    copyInto(h.key, key);
    return this.lookupInPlace(flags) ? new Uint8Array(h.value) : undefined;
  }

  /** Stores `value` under `key` (BPF_MAP_UPDATE_ELEM); flags as in {@link UpdateFlag}. */
  updateBytes(key: Uint8Array, value: Uint8Array, flags: number = UpdateFlag.ANY): void {
    this.check('key', key, this.keySize);
    this.check('value', value, this.userValueSize);
    const h = this.hotPath('update');
    copyInto(h.key, key);
    copyInto(h.value, value);
    this.updateInPlace(flags);
  }

  /** Removes `key`; false if it was not there (BPF_MAP_DELETE_ELEM). */
  deleteBytes(key: Uint8Array): boolean {
    this.check('key', key, this.keySize);
    copyInto(this.hotPath('delete').key, key);
    return this.deleteInPlace();
  }

  /** Looks up and deletes `key` in one step (no key for queues and stacks); see {@link lookupAndDeleteInPlace}. */
  lookupAndDeleteBytes(key: Uint8Array = EMPTY, flags = 0): Uint8Array | undefined {
    this.check('key', key, this.keySize);
    const h = this.hotPath('lookupAndDelete');
    copyInto(h.key, key);
    return this.lookupAndDeleteInPlace(flags) ? new Uint8Array(h.value) : undefined;
  }

  /** The key after `key` (the first key for undefined), or undefined at the end (BPF_MAP_GET_NEXT_KEY). */
  nextKeyBytes(key: Uint8Array | undefined): Uint8Array | undefined {
    const h = this.hotPath('nextKey');
    if (key === undefined) {
      h.walkView.setBigUint64(KEY_OFF, 0n, HOST_LE);
    } else {
      this.check('key', key, this.keySize);
      copyInto(h.cursor, key);
      h.walkView.setBigUint64(KEY_OFF, h.cursorAddress, HOST_LE);
    }
    const ret = hotCall(h, 'MAP_GET_NEXT_KEY', h.walk, h.walkView);
    if (ret === 0) return new Uint8Array(h.next);
    if (ret === -Errno.ENOENT) return undefined;
    throw this.fail('BPF_MAP_GET_NEXT_KEY', -ret);
  }

  /**
   * Every key, in the kernel's order; robust to concurrent deletes (see map-iter.ts: keys
   * deleted meanwhile are skipped, restarts do not repeat keys).
   */
  *keysBytes(): IterableIterator<Uint8Array> {
    for (const [key] of walk(this, false)) yield key;
  }

  /** Every entry as [key, value] copies, with the same rules as {@link keysBytes}. */
  *entriesBytes(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const [key, value] of walk(this, true)) yield [key, value!];
  }

  // ---- batches ----

  /**
   * Reads the next entries into packed `keysOut`/`valuesOut` (BPF_MAP_LOOKUP_BATCH, per element
   * where unsupported) and returns how many; `cursor.done` turns true at the end.
   *
   * @example
   * const cursor = new BatchCursor(m), keys = new Uint8Array(1024 * m.keySize), values = new Uint8Array(1024 * m.userValueSize);
   * while (!cursor.done) { const n = m.batchLookupBytes(cursor, keys, values); ... }
   */
  batchLookupBytes(cursor: BatchCursor, keysOut: Uint8Array, valuesOut: Uint8Array, elemFlags = 0): number {
    return lookupBatch(this, cursor, keysOut, valuesOut, false, elemFlags);
  }

  /** Like {@link batchLookupBytes}, deleting what it reads (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  batchLookupAndDeleteBytes(cursor: BatchCursor, keysOut: Uint8Array, valuesOut: Uint8Array, elemFlags = 0): number {
    return lookupBatch(this, cursor, keysOut, valuesOut, true, elemFlags);
  }

  /** Stores packed keys and values (BPF_MAP_UPDATE_BATCH); returns how many. */
  batchUpdateBytes(keys: Uint8Array, values: Uint8Array, flags = 0): number {
    return updateBatch(this, keys, values, flags);
  }

  /** Deletes packed keys (BPF_MAP_DELETE_BATCH); returns how many were there. */
  batchDeleteBytes(keys: Uint8Array): number {
    return deleteBatch(this, keys);
  }

  /** Every entry, `chunk` per system call (BPF_MAP_LOOKUP_BATCH). */
  batchEntriesBytes(chunk = 4096): IterableIterator<[Uint8Array, Uint8Array]> {
    return batchEntries(this, chunk);
  }

  /** Reads and deletes every entry, `chunk` per system call. */
  drainBytes(chunk = 4096): Array<[Uint8Array, Uint8Array]> {
    return drainBatch(this, chunk);
  }

  // ---- the map as a kernel object ----

  /** What the kernel says about this map (BPF_OBJ_GET_INFO_BY_FD): id, type, sizes, flags, BTF ids. */
  info(): MapInfo {
    return readMapInfo(this.checkOpen('info'), `map '${this.name}'`);
  }

  /**
   * Makes the map read-only for user space from now on (BPF_MAP_FREEZE, Linux 5.2); programs
   * may still write it unless it was created with BPF_F_RDONLY_PROG. Later writes through a
   * syscall fail with MapReadOnlyError.
   */
  freeze(): void {
    bpf('MAP_FREEZE', { map_fd: this.checkOpen('freeze') }, { subject: `map '${this.name}'` });
  }

  /**
   * Pins the map at `path` on bpffs (BPF_OBJ_PIN) so it outlives this process; missing
   * directories under the bpffs are created, and /sys/fs/bpf is mounted when it is not.
   *
   * @example
   * counts.pin('/sys/fs/bpf/myapp/counts');
   */
  pin(path: string): void {
    this.pinned = pinFd(this.checkOpen('pin'), path, `map '${this.name}'`);
  }

  /** Removes the pin at `path` (default: where this object pinned it); false if none was there. */
  unpin(path = this.pinned): boolean {
    if (path === undefined) return false;
    const removed = unpinPath(path);
    if (path === this.pinned) this.pinned = undefined;
    return removed;
  }

  /** A cursor for {@link batchLookupBytes}. */
  batchCursor(): BatchCursor {
    return new BatchCursor(this);
  }

  /** Closes the map's fd; the kernel frees the map when nothing else (pins, programs) holds it. */
  close(): void {
    this.fd.close();
    this.hot = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export { BatchCursor };
