/**
 * A live BPF map in the kernel: created from a spec, addressed by its fd, closed (or disposed)
 * when no longer needed. This module holds the byte-level operations every map type shares;
 * typed keys and values, batches, per-CPU values, pinning and info build on it.
 */
import { TsbpfError } from '../errors.js';
import { bpf, Errno, Fd } from '../sys/index.js';
import { MapType } from '../uapi/enums.js';

/** A map type name as in `enum bpf_map_type` without its prefix ('HASH', 'RINGBUF', ...). */
export type MapTypeName = keyof typeof MapType;

/** What BPF_MAP_CREATE needs. */
export interface MapCreateOptions {
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_* map flags. */
  flags?: number;
  /** Up to 15 characters (BPF_OBJ_NAME_LEN - 1); longer names are cut. */
  name?: string;
  /** For maps of maps: an fd of a map shaped like the inner maps. */
  innerMapFd?: number;
  numaNode?: number;
  mapExtra?: bigint;
  /** BTF describing key and value (needed by spin locks, timers, kptrs; nice for bpftool). */
  btf?: { fd: number; keyTypeId: number; valueTypeId: number };
}

/** update flags (include/uapi/linux/bpf.h): BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK. */
export const UpdateFlag = { ANY: 0, NOEXIST: 1, EXIST: 2, LOCK: 4 } as const;

/** A BPF map. */
export class BpfMap implements Disposable {
  readonly fd: Fd;
  readonly type: MapTypeName;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;

  protected constructor(fd: Fd, options: MapCreateOptions) {
    this.fd = fd;
    this.type = options.type;
    this.keySize = options.keySize;
    this.valueSize = options.valueSize;
    this.maxEntries = options.maxEntries;
    this.flags = options.flags ?? 0;
    this.name = options.name ?? '';
  }

  /**
   * Creates a map (BPF_MAP_CREATE). Throws a SyscallError naming the map on failure.
   *
   * @example
   * using counts = BpfMap.create({ type: 'HASH', keySize: 4, valueSize: 8, maxEntries: 1024, name: 'counts' });
   */
  static create(options: MapCreateOptions): BpfMap {
    const type = MapType[options.type];
    if (type === undefined) throw new TsbpfError(`unknown map type '${options.type}'`);
    const { ret } = bpf(
      'MAP_CREATE',
      {
        map_type: type,
        key_size: options.keySize,
        value_size: options.valueSize,
        max_entries: options.maxEntries,
        map_flags: options.flags ?? 0,
        map_name: (options.name ?? '').slice(0, 15),
        inner_map_fd: options.innerMapFd,
        numa_node: options.numaNode,
        map_extra: options.mapExtra,
        btf_fd: options.btf?.fd,
        btf_key_type_id: options.btf?.keyTypeId,
        btf_value_type_id: options.btf?.valueTypeId,
      },
      { subject: `map '${options.name ?? ''}' (${options.type})` },
    );
    return new BpfMap(new Fd(ret), options);
  }

  /** Wraps an fd the caller owns from now on (from a pin, an id, or another process). */
  static fromFd(fd: Fd, options: MapCreateOptions): BpfMap {
    return new BpfMap(fd, options);
  }

  private subject(): string {
    return `map '${this.name}'`;
  }

  private check(what: string, bytes: Uint8Array | undefined, size: number): void {
    if (bytes && bytes.byteLength !== size) throw new TsbpfError(`${this.subject()}: ${what} is ${bytes.byteLength} bytes, the map's is ${size}`);
  }

  /** The value under `key`, or undefined (BPF_MAP_LOOKUP_ELEM). `valueBytes` sizes per-CPU reads. */
  lookupBytes(key: Uint8Array, valueBytes = this.valueSize): Uint8Array | undefined {
    this.check('key', key, this.keySize);
    const value = new Uint8Array(valueBytes);
    const { ret } = bpf('MAP_LOOKUP_ELEM', { map_fd: this.fd.value, key: key.byteLength ? key : 0n, value }, { allow: [Errno.ENOENT], subject: this.subject() });
    return ret === 0 ? value : undefined;
  }

  /** Stores `value` under `key` (BPF_MAP_UPDATE_ELEM); flags as in {@link UpdateFlag}. */
  updateBytes(key: Uint8Array, value: Uint8Array, flags: number = UpdateFlag.ANY): void {
    this.check('key', key, this.keySize);
    bpf('MAP_UPDATE_ELEM', { map_fd: this.fd.value, key: key.byteLength ? key : 0n, value, flags }, { subject: this.subject() });
  }

  /** Removes `key`; false if it was not there (BPF_MAP_DELETE_ELEM). */
  deleteBytes(key: Uint8Array): boolean {
    this.check('key', key, this.keySize);
    return bpf('MAP_DELETE_ELEM', { map_fd: this.fd.value, key }, { allow: [Errno.ENOENT], subject: this.subject() }).ret === 0;
  }

  /** The key after `key` (the first key for undefined), or undefined at the end (BPF_MAP_GET_NEXT_KEY). */
  nextKeyBytes(key: Uint8Array | undefined): Uint8Array | undefined {
    const next = new Uint8Array(this.keySize);
    const { ret } = bpf('MAP_GET_NEXT_KEY', { map_fd: this.fd.value, key: key ?? 0n, next_key: next }, { allow: [Errno.ENOENT], subject: this.subject() });
    return ret === 0 ? next : undefined;
  }

  /** Every key, in the kernel's iteration order. */
  *keysBytes(): IterableIterator<Uint8Array> {
    for (let k = this.nextKeyBytes(undefined); k; k = this.nextKeyBytes(k)) yield k;
  }

  /** Closes the map's fd; the kernel frees the map when nothing else holds it. */
  close(): void {
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
